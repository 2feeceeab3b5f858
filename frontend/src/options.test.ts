import { describe, expect, it } from "vitest";
import { appearanceFor, DEFAULT_APPEARANCE, readOptions } from "./options";

describe("widget appearance", () => {
  const server = { title: "Trailhead help", color: "#0f766e", welcome_text: "Hi!", suggested_questions: ["Where is my order?"] };

  it("uses the console's settings unless the page named its own title or colour", () => {
    expect(appearanceFor(readOptions(""), server)).toEqual(server);
    expect(appearanceFor(readOptions("?embed=1&title=Acme&color=%23ff0000"), server))
      .toEqual({ ...server, title: "Acme", color: "#ff0000" });
    expect(appearanceFor(readOptions("?color=red;x:y"), server).color).toBe("#0f766e");
  });

  it("falls back to the defaults before the config arrives or for a bad value", () => {
    expect(appearanceFor(readOptions(""), null)).toEqual(DEFAULT_APPEARANCE);
    expect(appearanceFor(readOptions(""), { ...server, color: "url(x)" }).color).toBe(DEFAULT_APPEARANCE.color);
  });
});
