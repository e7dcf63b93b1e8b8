// Renders /api/openapi.json as a readable page: one section per tag, one card
// per operation, with parameters, request body, responses and the schemas.
// Plain DOM, no framework: it must work from the binary with no network.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) {
    if (c == null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function refName(schema) {
  return schema && schema.$ref ? schema.$ref.split("/").pop() : null;
}

function typeOf(schema) {
  if (!schema) return "";
  const ref = refName(schema);
  if (ref) return el("a", { href: "#schema-" + ref }, ref);
  if (schema.type === "array") {
    const inner = typeOf(schema.items);
    return el("span", {}, "array of ", inner);
  }
  if (schema.oneOf) return el("span", {}, schema.oneOf.map((s) => s.type || refName(s)).join(" | "));
  if (schema.enum) return el("span", {}, schema.enum.join(" | "));
  return el("span", {}, Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type || "object");
}

function operation(method, path, op) {
  const card = el("section", { class: "op" });
  card.append(el("h3", {}, el("span", { class: "method " + method }, method.toUpperCase()), " ", el("code", {}, path)));
  if (op.summary) card.append(el("p", { class: "summary" }, op.summary));
  if (op.description) card.append(el("p", {}, op.description));
  if (op.security) card.append(el("p", { class: "auth" }, "Requires a bearer token."));
  if (op.parameters && op.parameters.length) {
    const rows = op.parameters.map((p) =>
      el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, typeOf(p.schema)),
        el("td", {}, (p.required ? "required. " : "") + (p.description || ""))));
    card.append(el("h4", {}, "Parameters"), el("table", {}, ...rows));
  }
  const body = op.requestBody && op.requestBody.content;
  if (body) {
    const [mime, media] = Object.entries(body)[0];
    card.append(el("h4", {}, "Request body"), el("p", {}, el("code", {}, mime), " ", typeOf(media.schema)));
  }
  const rows = Object.entries(op.responses || {}).map(([code, r]) => {
    const content = r.content ? Object.values(r.content)[0] : null;
    return el("tr", {}, el("td", {}, code), el("td", {}, r.description || ""), el("td", {}, content ? typeOf(content.schema) : ""));
  });
  card.append(el("h4", {}, "Responses"), el("table", {}, ...rows));
  return card;
}

function schemaSection(name, schema) {
  const s = el("section", { class: "schema", id: "schema-" + name }, el("h3", {}, name));
  if (schema.description) s.append(el("p", {}, schema.description));
  const required = new Set(schema.required || []);
  if (schema.properties) {
    const rows = Object.entries(schema.properties).map(([prop, ps]) =>
      el("tr", {}, el("td", {}, el("code", {}, prop)), el("td", {}, typeOf(ps)),
        el("td", {}, (required.has(prop) ? "required. " : "") + (ps.description || ""))));
    s.append(el("table", {}, ...rows));
  } else if (schema.enum) {
    s.append(el("p", {}, "One of: ", schema.enum.join(", ")));
  } else if (schema.oneOf) {
    s.append(el("p", {}, "One of: ", ...schema.oneOf.map((o) => el("span", {}, typeOf(o), " "))));
  }
  return s;
}

async function main() {
  const content = document.getElementById("content");
  const spec = await (await fetch("/api/openapi.json")).json();
  document.getElementById("title").textContent = `${spec.info.title} ${spec.info.version}`;
  content.replaceChildren();
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(method, path, op));
    }
  }
  for (const [tag, ops] of byTag) content.append(el("h2", {}, tag), ...ops);
  const schemas = (spec.components && spec.components.schemas) || {};
  content.append(el("h2", {}, "Schemas"));
  for (const [name, schema] of Object.entries(schemas)) content.append(schemaSection(name, schema));
}

main().catch((e) => {
  document.getElementById("content").textContent = "Could not load the API description: " + e;
});
