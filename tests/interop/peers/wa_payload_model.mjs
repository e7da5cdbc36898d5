// Validates WhatsApp Cloud API payloads against an independent model of them: the zod schemas of
// the npm package whatsapp-cloud-api-types (pinned in .ci/run). One JSON object a line on stdin,
// {"kind": "message" | "template" | "webhook", "payload": {...}}; one answer a line on stdout, in
// the same order: {"kind", "valid", "error", "parsed"} where "parsed" is the model's reading of the
// payload (its zod objects drop the keys they do not know, so a caller can compare it with what
// was given) and "error" the model's complaint.
//
// A message is sent with the package's own client (messages.sendText, sendImage, ...), so its own
// schema check runs exactly as it does before a real send; fetch is replaced by one that keeps the
// body and answers as the Cloud API does, so nothing leaves this process. A template submission
// goes through templates.create the same way; a webhook body is parsed by WhatsAppWebhookSchema.
import readline from "node:readline";
import {
  MessageTemplateStatusUpdateWebhookSchema,
  MessagesWebhookSchema,
  WhatsAppCloudAPI,
  WhatsAppWebhookSchema,
} from "whatsapp-cloud-api-types";

let sentBody = null;
globalThis.fetch = async (url, init) => {
  sentBody = init && typeof init.body === "string" ? JSON.parse(init.body) : null;
  const answer = String(url).endsWith("/message_templates")
    ? { id: "1", status: "PENDING", category: sentBody?.category ?? "UTILITY" }
    : { messaging_product: "whatsapp", contacts: [], messages: [{ id: "wamid.model" }] };
  return new Response(JSON.stringify(answer), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
};

const api = new WhatsAppCloudAPI({
  accessToken: "model-check",
  phoneNumberId: "106540352242922",
  wabaId: "102290129340398",
});

// Each message type to the client method that sends it, given the request's own objects (whole,
// so that a key the schema does not know reaches it and is dropped). sendText fills in
// preview_url (false) when a text leaves it out; our texts always give it.
const senders = {
  text: (p, ctx) => api.messages.sendText(p.to, p.text?.body, p.text?.preview_url, ctx),
  image: (p, ctx) => api.messages.sendImage(p.to, p.image, p.image?.caption, ctx),
  audio: (p, ctx) => api.messages.sendAudio(p.to, p.audio, ctx),
  video: (p, ctx) => api.messages.sendVideo(p.to, p.video, p.video?.caption, ctx),
  document: (p, ctx) =>
    api.messages.sendDocument(p.to, p.document, p.document?.caption, p.document?.filename, ctx),
  sticker: (p, ctx) => api.messages.sendSticker(p.to, p.sticker, ctx),
  location: (p, ctx) => api.messages.sendLocation(p.to, p.location, ctx),
  contacts: (p, ctx) => api.messages.sendContacts(p.to, p.contacts, ctx),
  template: (p, ctx) => api.messages.sendTemplate(p.to, p.template, ctx),
  interactive: (p, ctx) => {
    const kind = p.interactive?.type;
    if (kind === "button") return api.messages.sendInteractiveButtons(p.to, p.interactive, ctx);
    if (kind === "list") return api.messages.sendInteractiveList(p.to, p.interactive, ctx);
    if (kind === "cta_url") return api.messages.sendCtaUrl(p.to, p.interactive, ctx);
    throw new Error(`the model has no interactive message of type ${JSON.stringify(kind)}`);
  },
};

const fieldSchemas = {
  messages: MessagesWebhookSchema,
  message_template_status_update: MessageTemplateStatusUpdateWebhookSchema,
};

function complaint(error) {
  if (Array.isArray(error?.issues)) {
    return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  }
  return String(error?.message ?? error);
}

async function check(kind, payload) {
  sentBody = null;
  if (kind === "webhook") {
    const result = WhatsAppWebhookSchema.safeParse(payload);
    if (result.success) return { valid: true, error: null, parsed: result.data };
    // The union only says that no webhook matched: the schema of the change's field says why.
    const field = payload?.entry?.[0]?.changes?.[0]?.field;
    const schema = fieldSchemas[field] ?? WhatsAppWebhookSchema;
    return { valid: false, error: complaint(schema.safeParse(payload).error), parsed: null };
  }
  try {
    if (kind === "template") {
      await api.templates.create(payload);
    } else if (kind === "message") {
      const send = senders[payload?.type];
      if (send === undefined) {
        throw new Error(`the model has no message of type ${JSON.stringify(payload?.type)}`);
      }
      await send(payload, payload.context?.message_id);
    } else {
      throw new Error(`unknown kind ${JSON.stringify(kind)}`);
    }
  } catch (error) {
    return { valid: false, error: complaint(error), parsed: null };
  }
  return { valid: true, error: null, parsed: sentBody };
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const { kind, payload } = JSON.parse(line);
    answer = { kind, ...(await check(kind, payload)) };
  } catch (error) {
    answer = { kind: null, valid: false, error: `unreadable line: ${complaint(error)}`, parsed: null };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
