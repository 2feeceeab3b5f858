"""Real-time chat over WebSocket: protocol frames, connections, the cross-instance event bus."""
