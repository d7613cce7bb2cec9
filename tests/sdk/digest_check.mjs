// An independent implementation of the rolemodel.v1 digest chain (spec
// chapter 4.2), written from the spec text only, to show that the vectors
// reproduce in another language. Usage: node digest_check.mjs digest.json
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const ROLES = { MESSAGE_ROLE_SYSTEM: "system", MESSAGE_ROLE_USER: "user", MESSAGE_ROLE_ASSISTANT: "assistant", MESSAGE_ROLE_TOOL: "tool" };
const sha256 = (buf) => createHash("sha256").update(buf).digest();

function image(img) {
  if (img.url !== undefined) return { media_type: img.mediaType ?? "", sha256: "", type: "image", url: img.url };
  return { media_type: img.mediaType ?? "", sha256: sha256(Buffer.from(img.data ?? "", "base64")).toString("hex"), type: "image", url: "" };
}

function part(p) {
  if (p.text) return { text: p.text.text ?? "", type: "text" };
  if (p.image) return image(p.image);
  if (p.toolCall) return { arguments: p.toolCall.argumentsJson ?? "", id: p.toolCall.id ?? "", name: p.toolCall.name ?? "", type: "tool_call" };
  if (p.toolResult) {
    const content = (p.toolResult.content ?? []).map((c) => (c.image ? image(c.image) : { text: c.text?.text ?? "", type: "text" }));
    return { content, is_error: p.toolResult.isError ?? false, tool_call_id: p.toolResult.toolCallId ?? "", type: "tool_result" };
  }
  if (p.reasoning) {
    const r = p.reasoning;
    return { provider: r.provider ?? "", redacted: r.redacted ?? false, signature: r.signature ?? "", text: r.text ?? "", type: "reasoning" };
  }
  throw new Error("part without a kind");
}

// Keys sorted by code point; JSON.stringify escapes exactly what RFC 8785 requires for strings.
function canonical(value) {
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}

const file = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failures = 0;
for (const v of file.vectors) {
  let previous = Buffer.alloc(32);
  v.input.messages.forEach((m, i) => {
    const text = canonical({ parts: (m.parts ?? []).map(part), role: ROLES[m.role] });
    previous = sha256(Buffer.concat([previous, sha256(Buffer.from(text, "utf8"))]));
    if (text !== v.expected.canonical[i] || previous.toString("hex") !== v.expected.chain[i]) {
      failures += 1;
      console.log(`${v.id} message ${i}: mismatch`);
    }
  });
}
if (failures) { console.log(`${failures} mismatches`); process.exit(1); }
console.log("all digest vectors reproduced");
