import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

// jsdom lacks scrollIntoView; components call it when new messages arrive.
Element.prototype.scrollIntoView = function scrollIntoView() {};
// Without vitest globals Testing Library cannot register its own cleanup.
afterEach(cleanup);
