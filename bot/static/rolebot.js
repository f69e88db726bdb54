() => {
  // rolebot's page behaviour on top of Gradio's components (bot/web.py passes this file as launch(js=...)).
  // Nothing here talks to the server: it scrolls, labels, highlights and copies. Every handler looks
  // elements up when it runs, because Gradio re-renders them.
  if (window.__rolebot) return;
  window.__rolebot = true;

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  // ---- 1. A sent question moves to the top of the conversation, so its answer reads from its start.
  // Gradio's own autoscroll (to the bottom) is off; this runs when a question appears and again when
  // its answer arrives (only then is there room below to bring the question to the top).
  let seenUsers = 0;
  let seenBots = 0;

  function scrollParent(element) {
    for (let node = element.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) return node;
    }
    return null;
  }

  function showAtTop(element) {
    const chat = document.getElementById("chat");
    if (chat) {
      const box = chat.getBoundingClientRect();
      if (box.top < 0 || box.top > window.innerHeight / 2) chat.scrollIntoView({ block: "start" });
    }
    const scroller = scrollParent(element);
    if (!scroller) return;
    const offset = element.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    scroller.scrollTop += offset - 8;
  }

  function followConversation() {
    const users = $$("#chat [data-testid='user']");
    const bots = $$("#chat [data-testid='bot']");
    const last = users[users.length - 1];
    const row = last && (last.closest(".message-row") || last);
    if (users.length > seenUsers || (bots.length > seenBots && bots.length === users.length)) {
      if (row) showAtTop(row);
    }
    seenUsers = users.length;
    seenBots = bots.length;
  }

  // ---- 2. Names and states that assistive technology needs and Gradio does not give.
  function label() {
    const send = $("#question button.submit-button");
    if (send && !send.getAttribute("aria-label")) send.setAttribute("aria-label", "Send question");
    for (const button of $$("#chat .message-buttons button[title^='Like'], #chat .message-buttons button[title^='Dislike']")) {
      // Gradio shows a vote only by colour and by renaming the button "Liked": keep the name, say "pressed".
      const name = button.title.startsWith("Dislike") ? "Dislike" : "Like";
      const pressed = String(button.title !== name || (button.getAttribute("style") || "").includes("--color-accent"));
      if (button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
      if (button.getAttribute("aria-pressed") !== pressed) button.setAttribute("aria-pressed", pressed);
    }
    for (const list of $$("#chat .examples[role='list']")) {
      // A list of buttons without list items is an ARIA error (axe: aria-required-children); a group is right.
      list.setAttribute("role", "group");
      list.setAttribute("aria-label", "Example questions");
    }
    for (const message of $$("#chat [data-testid='bot'][aria-label], #chat [data-testid='user'][aria-label]")) {
      // Gradio puts the raw message (our HTML) in an aria-label on a plain div; the content itself reads better.
      message.removeAttribute("aria-label");
    }
  }

  // ---- 3. The character counter appears near the limit, before anything is cut.
  function count() {
    const counter = document.getElementById("rb-counter");
    const box = $("#question textarea");
    if (!counter || !box) return;
    const limit = Number(counter.dataset.limit) || 2000;
    const used = Array.from(box.value).length;
    let text = "";
    if (used > limit) {
      text = `${used.toLocaleString("en")} / ${limit.toLocaleString("en")} characters: only the first ${limit.toLocaleString("en")} will be read.`;
    } else if (used >= limit * 0.8) {
      text = `${used.toLocaleString("en")} / ${limit.toLocaleString("en")} characters`;
    }
    if (counter.textContent !== text) counter.textContent = text;
    counter.classList.toggle("rb-over", used > limit);
  }

  let queued = false;
  function refresh() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      followConversation();
      label();
      count();
    });
  }
  new MutationObserver(refresh).observe(document.body, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["style", "class"],
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("#question textarea")) count();
  });
  refresh();

  // ---- 4. Examples and suggestions are sent exactly like typed questions (shown at once, one at a time).
  function send(text) {
    const box = $("#question textarea");
    const submit = $("#question button.submit-button");
    if (!box || !submit) return false;
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set.call(box, text);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => submit.click(), 0);
    return true;
  }

  document.addEventListener(
    "click",
    (event) => {
      const choice = event.target.closest && event.target.closest("#chat button.example, #chat button.option");
      if (!choice) return;
      const text = (choice.querySelector(".example-text") || choice).textContent.trim();
      if (text && send(text)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true,
  );

  // ---- 5. A citation opens the Article view at the passage, highlighted.
  function tab(name) {
    return $$("#views [role='tab']").find((button) => button.textContent.trim() === name);
  }

  function whenPresent(selector, callback, tries = 120) {
    const element = $(selector);
    if (element && element.offsetParent !== null) callback(element);
    else if (tries > 0) requestAnimationFrame(() => whenPresent(selector, callback, tries - 1));
  }

  function openPassage(href) {
    const numbers = href.startsWith("#passage-") ? href.slice("#passage-".length).split(".") : [];
    const button = tab("Article");
    if (button) button.click();
    whenPresent("#article .rb-doc", () => {
      for (const old of $$("#article .rb-hl")) old.classList.remove("rb-hl");
      const blocks = numbers.map((n) => document.getElementById(`rb-b${n}`)).filter(Boolean);
      for (const block of blocks) block.classList.add("rb-hl");
      // The first block a reader can see: a table's header row is visually hidden on a phone.
      const target = blocks.find((block) => block.getBoundingClientRect().height > 2) || $("#article .rb-doc");
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    });
  }

  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest("a[href^='#passage-'], a[href='#article'], a[href='#chat-view']");
      if (!link) return;
      event.preventDefault();
      event.stopPropagation();
      if (link.getAttribute("href") === "#chat-view") {
        const button = tab("Chat");
        if (button) button.click();
        window.scrollTo(0, 0);
        whenPresent("#question textarea", (box) => box.focus({ preventScroll: true }));
      } else {
        openPassage(link.getAttribute("href"));
      }
    },
    true,
  );

  // ---- 6. Copy gives clean text: a bot message carries its plain-text version in a hidden .rb-copy.
  function clean(text) {
    if (typeof text !== "string") return text;
    if (text.includes("rb-copy")) {
      const node = new DOMParser().parseFromString(text, "text/html").querySelector(".rb-copy");
      if (node) return node.textContent;
    }
    // A visitor's own message is stored escaped (web.as_text): give back what they typed.
    const decoded = new DOMParser().parseFromString(`<p>${text.replace(/</g, "&lt;")}</p>`, "text/html").body.textContent;
    return decoded.replace(/\\([\\`*_{}\[\]()#+\-.!|~$=])/g, "$1");
  }

  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(clean(text));
  }
  document.addEventListener("copy", (event) => {
    // Gradio's fallback without the Clipboard API (plain http) copies from a temporary textarea.
    const active = document.activeElement;
    if (active && active.tagName === "TEXTAREA" && active.value.includes("rb-copy")) {
      event.clipboardData.setData("text/plain", clean(active.value));
      event.preventDefault();
    }
  });

  // ---- 7. On a wide screen the cursor starts in the question box; a phone keeps its keyboard closed.
  if (window.matchMedia("(min-width: 700px)").matches) {
    whenPresent("#question textarea", (box) => box.focus({ preventScroll: true }));
  }
}
