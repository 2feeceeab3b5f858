import { describe, expect, it } from "vitest";
import type { CannedReply } from "../types";
import { cannedMatches, expandCanned } from "./canned";

const replies: CannedReply[] = [
  { id: "1", short_code: "thanks", content: "Thanks for your patience!", updated_at: "" },
  { id: "2", short_code: "thanks-refund", content: "Your refund is on its way.", updated_at: "" },
  { id: "3", short_code: "bye", content: "Have a nice day.", updated_at: "" },
];

describe("canned replies", () => {
  it("offers the replies whose short code starts with what follows the slash", () => {
    expect(cannedMatches("/th", replies).map((r) => r.short_code)).toEqual(["thanks", "thanks-refund"]);
    expect(cannedMatches("/", replies)).toHaveLength(3);
    expect(cannedMatches("/BYE", replies).map((r) => r.id)).toEqual(["3"]);
    expect(cannedMatches("hello /thanks", replies)).toEqual([]);
    expect(cannedMatches("/nothing", replies)).toEqual([]);
  });

  it("expands an exact code and leaves anything else alone", () => {
    expect(expandCanned("/thanks", replies)).toBe("Thanks for your patience!");
    expect(expandCanned(" /bye ", replies)).toBe("Have a nice day.");
    expect(expandCanned("/th", replies)).toBe("/th");
    expect(expandCanned("thanks", replies)).toBe("thanks");
  });
});
