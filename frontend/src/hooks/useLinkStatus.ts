// Whether REST answers, and when the next attempt is: set by bootstrap, the health probe and sends.
import { useState } from "react";

export interface LinkStatus {
  httpOnline: boolean;
  retryAt: number | undefined;
  setHttpOnline: (online: boolean) => void;
  setRetryAt: (at: number | undefined) => void;
}

export function useLinkStatus(): LinkStatus {
  const [httpOnline, setHttpOnline] = useState(true);
  const [retryAt, setRetryAt] = useState<number | undefined>();
  return { httpOnline, retryAt, setHttpOnline, setRetryAt };
}
