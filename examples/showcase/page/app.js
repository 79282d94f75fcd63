// The showcase page. Reads the app's own AsyncAPI 3.0 document (GET /asyncapi.json) and builds
// one panel per channel with an address: connect/disconnect (an input per address parameter), a
// form per message the channel receives (from the message's payload schema) and a log of the
// frames the server sends, labelled from the document: "reply" (a receive operation's reply),
// "broadcast" (a send operation), "event" (a send operation fed by x-events) or "error" (the
// error frame of docs/wire-protocol.md). Text only ever reaches the page through textContent.
"use strict";

(() => {
  const ROOT = new URL("../", document.baseURI); // the page lives at <app root>/showcase/
  const DOC_URL = new URL("asyncapi.json", ROOT);
  const WS_ROOT = ROOT.href.replace(/^http/, "ws");
  const MAX_LOG = 300;
  const panels = [];

  // ---- small DOM helpers ---------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key in node && typeof node[key] !== "function" && key !== "list") node[key] = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clock() {
    return new Date().toTimeString().slice(0, 8);
  }

  function compact(value) {
    try {
      return JSON.stringify(value);
    } catch (err) {
      return String(value);
    }
  }

  // ---- the document --------------------------------------------------------------------------

  function pointer(doc, ref) {
    if (typeof ref !== "string" || !ref.startsWith("#")) return undefined;
    let node = doc;
    const path = ref.slice(1).split("/").slice(1);
    for (const raw of path) {
      let part;
      try {
        part = decodeURIComponent(raw);
      } catch (err) {
        part = raw;
      }
      part = part.replace(/~1/g, "/").replace(/~0/g, "~");
      if (node === null || typeof node !== "object" || !(part in node)) return undefined;
      node = node[part];
    }
    return node;
  }

  // Follow local $refs (at most 32 hops, so a cycle cannot hang the page).
  function deref(doc, node) {
    for (let hops = 0; node && typeof node === "object" && typeof node.$ref === "string"; hops++) {
      if (hops > 32) return undefined;
      node = pointer(doc, node.$ref);
    }
    return node;
  }

  function messageKeyOf(channel, doc, ref) {
    const target = deref(doc, ref);
    for (const [key, message] of Object.entries(channel.messages || {})) {
      if (deref(doc, message) === target) return key;
    }
    return undefined;
  }

  // The discriminator of a message: the first payload property with a const ("action" first).
  function tagOf(doc, message) {
    const payload = deref(doc, message && message.payload);
    const props = (payload && payload.properties) || {};
    const names = Object.keys(props).sort((a, b) => (b === "action") - (a === "action"));
    for (const name of names) {
      const schema = deref(doc, props[name]);
      if (schema && schema.const !== undefined) return { prop: name, value: schema.const };
    }
    return undefined;
  }

  // What a channel receives (forms) and how each of its messages reaches a client (log labels).
  function describeChannel(doc, id, channel) {
    const allKeys = Object.keys(channel.messages || {});
    const receives = [];
    const kinds = new Map(allKeys.map((key) => [key, new Set()]));
    const keysOf = (refs) =>
      Array.isArray(refs) ? refs.map((ref) => messageKeyOf(channel, doc, ref)).filter(Boolean) : allKeys;
    for (const op of Object.values(doc.operations || {})) {
      if (!op || deref(doc, op.channel) !== channel) continue;
      if (op.action === "receive") {
        for (const key of keysOf(op.messages)) if (!receives.includes(key)) receives.push(key);
        const reply = deref(doc, op.reply);
        if (reply) {
          const replyChannel = reply.channel ? deref(doc, reply.channel) : channel;
          if (replyChannel === channel) for (const key of keysOf(reply.messages)) kinds.get(key).add("reply");
        }
      } else if (op.action === "send") {
        const kind = Array.isArray(op["x-events"]) && op["x-events"].length ? "event" : "broadcast";
        for (const key of keysOf(op.messages)) kinds.get(key).add(kind);
      }
    }
    const tags = allKeys
      .map((key) => ({ key, tag: tagOf(doc, deref(doc, channel.messages[key])) }))
      .filter((entry) => entry.tag);
    const params = Object.keys(channel.parameters || {});
    for (const match of String(channel.address).matchAll(/\{([^}]+)\}/g)) {
      if (!params.includes(match[1])) params.push(match[1]);
    }
    return { id, channel, receives, kinds, tags, params };
  }

  // ---- forms from payload schemas ------------------------------------------------------------

  function typeOf(schema) {
    if (Array.isArray(schema.type)) {
      const types = schema.type.filter((t) => t !== "null");
      return types.length === 1 ? types[0] : undefined;
    }
    if (schema.type) return schema.type;
    if (schema.properties) return "object";
    return undefined;
  }

  function hint(schema) {
    const parts = [];
    if (schema.format) parts.push(schema.format);
    if (schema.minLength !== undefined || schema.maxLength !== undefined) {
      parts.push(`${schema.minLength ?? 0}\u2013${schema.maxLength ?? "\u221e"} chars`);
    }
    if (schema.minimum !== undefined) parts.push(`\u2265 ${schema.minimum}`);
    if (schema.maximum !== undefined) parts.push(`\u2264 ${schema.maximum}`);
    return parts.join(", ");
  }

  // Returns { read(): value | undefined }, appending label/control pairs to `grid`.
  function buildField(doc, rawSchema, path, required, grid, idBase) {
    const schema = deref(doc, rawSchema) || {};
    const label = path.join(".") || "(frame)";
    const id = `${idBase}--${path.join(".") || "root"}`;
    const title = schema.description || schema.title || "";
    const name = el("label", { class: required ? "field-name required" : "field-name", htmlFor: id, title, text: label });
    const type = typeOf(schema);

    if (schema.const !== undefined) {
      grid.append(name, el("code", { class: "const", id, text: compact(schema.const) }));
      return { read: () => schema.const, fixed: true };
    }
    if (Array.isArray(schema.enum) && schema.enum.length) {
      const select = el("select", { id, name: label, title });
      if (!required) select.append(el("option", { value: "", text: "(omit)" }));
      schema.enum.forEach((value, index) =>
        select.append(el("option", { value: String(index), text: typeof value === "string" ? value : compact(value) }))
      );
      if (schema.default !== undefined) {
        const index = schema.enum.findIndex((value) => compact(value) === compact(schema.default));
        if (index >= 0) select.value = String(index);
      }
      grid.append(name, select);
      return { read: () => (select.value === "" ? undefined : schema.enum[Number(select.value)]) };
    }
    if (type === "object" && schema.properties && Object.keys(schema.properties).length) {
      const requiredNames = new Set(schema.required || []);
      const children = Object.entries(schema.properties).map(([key, child]) => [
        key,
        buildField(doc, child, [...path, key], requiredNames.has(key), grid, idBase),
      ]);
      return {
        read: () => {
          const value = {};
          let filled = false;
          for (const [key, child] of children) {
            const got = child.read();
            if (got === undefined) continue;
            value[key] = got;
            if (!child.fixed) filled = true;
          }
          return required || filled ? value : undefined;
        },
      };
    }
    if (type === "string") {
      const input = el("input", {
        type: "text",
        id,
        name: label,
        title,
        placeholder: hint(schema) || (required ? "" : "(optional)"),
        value: typeof schema.default === "string" ? schema.default : "",
        autocomplete: "off",
      });
      grid.append(name, input);
      return { read: () => (input.value === "" && !required ? undefined : input.value) };
    }
    if (type === "integer" || type === "number") {
      const input = el("input", { type: "number", id, name: label, title, step: type === "integer" ? "1" : "any", placeholder: hint(schema) });
      if (typeof schema.default === "number") input.value = String(schema.default);
      grid.append(name, input);
      return { read: () => (input.value === "" ? undefined : Number(input.value)) };
    }
    if (type === "boolean") {
      const box = el("input", { type: "checkbox", id, name: label, title, checked: schema.default === true });
      grid.append(name, el("span", {}, box));
      return { read: () => box.checked };
    }
    // Free-form objects, arrays, unions: JSON typed by the user.
    const area = el("textarea", {
      id,
      name: label,
      title,
      rows: 1,
      placeholder: `JSON${type ? " " + type : ""}${required ? "" : " (optional)"}`,
    });
    grid.append(name, area);
    return {
      read: () => {
        const text = area.value.trim();
        if (text === "") return required ? {} : undefined;
        try {
          return JSON.parse(text);
        } catch (err) {
          throw new Error(`${label}: not JSON (${err.message})`);
        }
      },
    };
  }

  // ---- panels --------------------------------------------------------------------------------

  class Panel {
    constructor(doc, info) {
      this.doc = doc;
      this.info = info;
      this.ws = null;
      this.sendButtons = [];
      this.paramInputs = new Map();
      this.node = this.render();
      this.setState("disconnected");
    }

    render() {
      const { id, channel } = this.info;
      const layer = channel["x-channel-layer"];
      const head = el(
        "header",
        { class: "panel-head" },
        el("h2", {}, el("span", { text: id }), el("code", { text: channel.address }), el("span", { class: "layer", text: layer ? `layer: ${layer}` : "no channel layer" })),
        channel.description || channel.summary ? el("p", { text: channel.description || channel.summary }) : null
      );
      const conn = el("div", { class: "conn" });
      for (const param of this.info.params) {
        const spec = deref(this.doc, (channel.parameters || {})[param]) || {};
        const initial = spec.default ?? (Array.isArray(spec.enum) ? spec.enum[0] : undefined) ?? (Array.isArray(spec.examples) ? spec.examples[0] : undefined) ?? "demo";
        const input = el("input", { type: "text", name: `param-${param}`, value: String(initial), title: spec.description || "", autocomplete: "off" });
        this.paramInputs.set(param, input);
        conn.append(el("label", {}, `${param} `, input));
      }
      this.connectButton = el("button", { type: "button", class: "connect primary", text: "Connect" });
      this.disconnectButton = el("button", { type: "button", class: "disconnect", text: "Disconnect" });
      this.statusNode = el("span", { class: "status", role: "status" });
      this.connectButton.addEventListener("click", () => this.connect());
      this.disconnectButton.addEventListener("click", () => this.disconnect());
      conn.append(this.connectButton, this.disconnectButton, this.statusNode);

      const forms = this.info.receives.map((key) => this.renderForm(key));
      const raw = this.renderRaw();
      this.log = el("ol", { class: "log", "aria-live": "polite" });
      const clear = el("button", { type: "button", class: "clear", text: "Clear" });
      clear.addEventListener("click", () => this.log.replaceChildren());
      return el(
        "section",
        { class: "panel", id: `panel-${id}`, "data-channel": id },
        head,
        conn,
        ...forms,
        raw,
        el("div", { class: "log-head" }, el("span", { text: "Frames" }), clear),
        this.log
      );
    }

    renderForm(key) {
      const message = deref(this.doc, this.info.channel.messages[key]) || {};
      const grid = el("div", { class: "fields" });
      const field = buildField(this.doc, message.payload || {}, [], true, grid, `f-${this.info.id}-${key}`);
      const button = el("button", { type: "submit", class: "primary", text: "Send" });
      this.sendButtons.push(button);
      const summary = message.summary || message.description || "";
      const form = el(
        "form",
        { class: "send-form", "data-message": key, noValidate: true },
        el("fieldset", { class: "send" }, el("legend", {}, message.title || message.name || key, summary ? el("small", { text: ` \u2014 ${summary}` }) : null), grid, el("div", { class: "send-row" }, button))
      );
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        let value;
        try {
          value = field.read();
        } catch (err) {
          this.append("local", "not sent", err.message);
          return;
        }
        this.sendText(JSON.stringify(value));
      });
      return form;
    }

    renderRaw() {
      const area = el("textarea", { name: "raw", rows: 1, placeholder: '{"action": "ping"} or anything, to see error frames' });
      const button = el("button", { type: "submit", text: "Send raw" });
      this.sendButtons.push(button);
      const form = el("form", { class: "raw-form", noValidate: true }, area, button);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.sendText(area.value);
      });
      return el("details", { class: "raw" }, el("summary", { text: "Raw frame" }), form);
    }

    url() {
      let missing = null;
      const path = String(this.info.channel.address).replace(/\{([^}]+)\}/g, (_, param) => {
        const input = this.paramInputs.get(param);
        const value = input ? input.value.trim() : "";
        if (!value) missing = param;
        return encodeURIComponent(value);
      });
      if (missing) throw new Error(`${missing} is required`);
      return WS_ROOT + path.replace(/^\/+/, "");
    }

    setState(state) {
      this.state = state;
      this.node.classList.toggle("open", state === "connected");
      this.node.dataset.state = state;
      this.statusNode.textContent = state;
      this.connectButton.disabled = state !== "disconnected";
      this.disconnectButton.disabled = state === "disconnected";
      for (const button of this.sendButtons) button.disabled = state !== "connected";
      for (const input of this.paramInputs.values()) input.disabled = state !== "disconnected";
    }

    connect() {
      if (this.ws) return;
      let url;
      try {
        url = this.url();
      } catch (err) {
        this.append("local", "not connected", err.message);
        return;
      }
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (err) {
        this.append("local", "not connected", err.message);
        return;
      }
      this.ws = ws;
      this.setState("connecting");
      ws.addEventListener("open", () => {
        if (this.ws !== ws) return;
        this.setState("connected");
        this.append("info", "open", new URL(url).pathname);
      });
      ws.addEventListener("message", (event) => {
        if (this.ws === ws) this.receive(event.data);
      });
      ws.addEventListener("close", (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.setState("disconnected");
        this.append("info", "closed", `code ${event.code}${event.reason ? " " + event.reason : ""}`);
      });
    }

    disconnect() {
      if (this.ws) this.ws.close(1000, "bye");
    }

    sendText(text) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        this.append("local", "not sent", "not connected");
        return;
      }
      this.ws.send(text);
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (err) {
        frame = undefined;
      }
      const action = frame && typeof frame === "object" ? this.actionOf(frame) : undefined;
      this.append("sent", action || "raw", frame && frame.payload && typeof frame.payload.message === "string" ? frame.payload.message : "", text);
    }

    actionOf(frame) {
      for (const { key, tag } of this.info.tags) {
        if (compact(frame[tag.prop]) === compact(tag.value)) return key;
      }
      return typeof frame.action === "string" ? frame.action : undefined;
    }

    receive(data) {
      if (typeof data !== "string") {
        this.append("info", "binary", `${data.size ?? data.byteLength ?? "?"} bytes`);
        return;
      }
      let frame;
      try {
        frame = JSON.parse(data);
      } catch (err) {
        this.append("unknown", "text", "", data);
        return;
      }
      if (frame && typeof frame === "object" && frame.action === "error") {
        const p = frame.payload || {};
        const details = Array.isArray(p.errors) ? p.errors.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ") : "";
        this.append("error", "error", `${p.code}: ${p.detail}${details ? " (" + details + ")" : ""}`, data);
        return;
      }
      const key = frame && typeof frame === "object" ? this.actionOf(frame) : undefined;
      const kinds = key && this.info.kinds.get(key);
      const kind = kinds && kinds.size ? [...kinds].sort().join(" ") : "unknown";
      const payload = frame && frame.payload;
      const text = payload && typeof payload.message === "string" ? payload.message : "";
      this.append(kind, key || "frame", text, data);
    }

    append(kind, action, text, frame) {
      const entry = el(
        "li",
        { class: "entry", "data-kind": kind, "data-action": action },
        el("span", { class: "time", text: clock() }),
        el("span", { class: "kind", text: kind === "sent" ? "\u2192 sent" : kind === "local" || kind === "info" ? kind : `\u2190 ${kind.split(" ").join(" / ")}` }),
        el("span", { class: "action", text: action }),
        el("span", { class: "text", text }),
        frame !== undefined ? el("code", { class: "frame", text: frame }) : null
      );
      const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 24;
      this.log.append(entry);
      while (this.log.childElementCount > MAX_LOG) this.log.firstElementChild.remove();
      if (atBottom) this.log.scrollTop = this.log.scrollHeight;
    }
  }

  // ---- start ---------------------------------------------------------------------------------

  async function start() {
    const status = document.getElementById("load-status");
    let doc;
    try {
      const response = await fetch(DOC_URL, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      doc = await response.json();
    } catch (err) {
      status.textContent = `Could not load ${DOC_URL.pathname}: ${err.message}`;
      status.classList.add("failed");
      return;
    }
    const info = doc.info || {};
    if (info.title) {
      document.title = `${info.title} \u2014 live`;
      document.getElementById("title").textContent = info.title;
    }
    const main = document.getElementById("panels");
    const skipped = [];
    for (const [id, rawChannel] of Object.entries(doc.channels || {})) {
      const channel = deref(doc, rawChannel);
      if (!channel || typeof channel.address !== "string") {
        skipped.push(id);
        continue;
      }
      const panel = new Panel(doc, describeChannel(doc, id, channel));
      panels.push(panel);
      main.append(panel.node);
    }
    document.getElementById("subtitle").textContent =
      `${info.version ? "v" + info.version + " \u00b7 " : ""}${panels.length} channel(s), built from ${DOC_URL.pathname}` +
      (skipped.length ? ` (without an address, not shown: ${skipped.join(", ")})` : "");
    status.textContent = "";
    const all = document.getElementById("connect-all");
    const none = document.getElementById("disconnect-all");
    all.disabled = none.disabled = panels.length === 0;
    all.addEventListener("click", () => panels.forEach((panel) => panel.connect()));
    none.addEventListener("click", () => panels.forEach((panel) => panel.disconnect()));
    document.body.dataset.ready = "true";
  }

  start();
})();
