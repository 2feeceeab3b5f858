import { act, fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ConnectionStatus } from "./ConnectionStatus";
import { Message } from "./Message";
import { MessageInput } from "./MessageInput";
import { SourceCitation } from "./SourceCitation";

describe("MessageInput", () => {
  const setup = (props: Partial<Parameters<typeof MessageInput>[0]> = {}) => {
    const onSend = vi.fn(() => true);
    render(<MessageInput busy={false} maxChars={20} onSend={onSend} onTyping={() => {}} picker={null} focusKey={0}
      {...props} />);
    return { onSend, input: screen.getByLabelText("Your message") };
  };

  it("sends on Enter and adds a line on Shift+Enter", async () => {
    const { onSend, input } = setup();
    await userEvent.type(input, "line one{Shift>}{Enter}{/Shift}two");
    expect(onSend).not.toHaveBeenCalled();
    expect((input as HTMLTextAreaElement).value).toBe("line one\ntwo");
    await userEvent.type(input, "{Enter}");
    expect(onSend).toHaveBeenCalledWith("line one\ntwo");
    expect((input as HTMLTextAreaElement).value).toBe("");
  });

  it("is disabled with its reason while offline", () => {
    const { input } = setup({ disabledReason: "You're offline" });
    expect((input as HTMLTextAreaElement).disabled).toBe(true);
    expect(input.getAttribute("aria-describedby")).toBe("input-disabled-reason");
    expect(screen.getByTestId("input-disabled-reason").textContent).toBe("You're offline");
  });

  it("refuses a message over the limit", async () => {
    const { onSend, input } = setup();
    await userEvent.type(input, "x".repeat(25) + "{Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByText(/Too long: 25\/20/)).toBeTruthy();
  });
});

describe("SourceCitation", () => {
  it("numbers sources and expands the passage on demand", () => {
    render(<SourceCitation sources={[
      { id: "a", content: "Passage A", metadata: { source: "a.md", title: "Returns" } as never, distance: 0.1 },
      { id: "b", content: "**Annual fee**: $0.00 <img src=x onerror=alert(1)>", metadata: { source: "b.md" },
        distance: 0.2 }]} />);
    const second = screen.getByRole("button", { name: /\[2\].*b\.md/ });
    expect(screen.getByRole("button", { name: /\[1\].*Returns/ })).toBeTruthy();
    expect(screen.queryByText("Passage A")).toBeNull();
    fireEvent.click(second);
    expect(second.getAttribute("aria-expanded")).toBe("true");
    // Markdown rendered (no raw `**`), through the answers' sanitiser: no image, no handler.
    const passage = screen.getByTestId("citation-passage");
    expect(passage.querySelector("strong")?.textContent).toBe("Annual fee");
    expect(passage.textContent).not.toContain("**");
    expect(document.querySelector("img")).toBeNull();
    expect(passage.innerHTML).not.toContain("onerror");
  });
});

describe("Message", () => {
  it("renders assistant Markdown sanitised, with links in a new tab", () => {
    render(<Message message={{ id: "1", role: "assistant", status: "done", createdAt: "", sources: [], attachments: [],
      content: "See [help](https://help.example) <img src=x onerror=\"window.hit=1\">" }} />);
    const link = screen.getByRole("link", { name: "help" });
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toContain("noopener");
    expect(document.querySelector("[onerror]")).toBeNull();
  });

  it("shows the customer's own text literally", () => {
    render(<Message message={{ id: "1", role: "user", status: "failed", error: "offline", createdAt: "", sources: [],
      attachments: [], content: "**not bold**" }} />);
    expect(screen.getByText("**not bold**")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toContain("Not sent: offline");
  });
});

describe("ConnectionStatus", () => {
  it("counts down to the next retry while offline", () => {
    vi.useFakeTimers();
    render(<ConnectionStatus connection={{ mode: "offline", retryAt: Date.now() + 5000, reason: "No server" }} />);
    expect(screen.getByRole("status").textContent).toContain("retrying in 5s");
    act(() => void vi.advanceTimersByTime(2000));
    expect(screen.getByRole("status").textContent).toContain("retrying in 3s");
    vi.useRealTimers();
  });
});
