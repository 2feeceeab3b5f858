import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { readOptions } from "./options";
import "./index.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App options={readOptions(window.location.search)} />
  </StrictMode>,
);
