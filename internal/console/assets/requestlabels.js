// Names and small views the request screens share, the account's (pages/account-deletion.js,
// pages/requests.js, pages/end-customer.js) and the privacy officer's (pages/ops-*.js): request
// kinds, statuses, sources, deadlines, history actors and data-map categories in two languages, a
// request's scope as a sentence, counted nouns in the right plural form, a deadline with its days
// left, and progress bars per category.

export const LABELS = {
  en: {
    kind_account_deletion: "Account deletion", kind_bot_deletion: "Bot deletion", kind_connection_wipe: "Channel connection wipe",
    kind_end_user_filter: "Privacy filter deletion", kind_end_user_deletion: "End user deletion",
    kind_channel_identity_deletion: "Channel's deletion callback", kind_inbox_message_deletion: "Inbox message deletion",
    kind_activity_log_deletion: "Activity log deletion", kind_end_customer_request: "End-customer request",
    status_received: "received", status_awaiting_verification: "awaiting a decision", status_scheduled: "scheduled",
    status_soft_deleted: "deactivated (restorable)", status_cancelled: "cancelled", status_hard_deleting: "deleting",
    status_awaiting_backup_rotation: "waiting for backups to rotate", status_completed: "completed", status_held: "held (legal hold)",
    status_declined: "declined", status_failed: "failed (the privacy officer is on it)",
    deadline_start_by: "Processing starts by", deadline_soft_delete_ends: "Restorable until",
    deadline_hard_delete_by: "Hard delete done by", deadline_backups_rotated_by: "Backups rotated by",
    deadline_complete_by: "Done by", deadline_escalate_at: "Goes to the privacy officer on",
    deadline_decide_by: "Decision due by", deadline_final_mail_by: "Outcome mail due by",
    ops_status_failed: "failed", ops_status_held: "held (legal hold)",
    src_dashboard: "dashboard", src_email: "mail", src_webhook: (c) => `the channel's callback (${c})`, src_retention: "retention sweep",
    src_sweep: (c) => `connection check (${c})`,
    src_operator: "privacy officer", src_end_customer: "end customer's request form",
    actor_system: "Lethe (automatically)", actor_workflow: "Lethe (deletion workflow)", actor_sweep: "Lethe (deadline sweep)",
    actor_channel_sweep: (c) => `Lethe (connection check: ${c} refused the credential twice)`,
    actor_email: "a mail to Lethe", actor_webhook: (c) => `the channel (${c})`, actor_operator: (n) => `privacy officer ${n}`,
    actor_end_customer: "the end customer",
    scope_account: () => "The whole account",
    scope_bot: (s) => `Bot ${s.botId}`,
    scope_connection: (s) => `Channel connection ${s.connectionId || ""}${s.channel ? ` (${s.channel})` : ""} of bot ${s.botId}`,
    scope_end_user: (s) => `Bot user ${s.endUserId} of bot ${s.botId}`,
    scope_end_user_filter: (s) => `Bot users of ${s.botId ? "bot " + s.botId : "all bots"}${s.range ? " whose first conversation was " + s.range : ""}`,
    scope_channel_identity: (s) => `Everyone the channel ${s.channel || ""} knows by one identity${s.botId ? " on bot " + s.botId : ""}`,
    scope_inbox_message: (s) => `Inbox message ${s.messageId} of bot user ${s.endUserId} of bot ${s.botId}`,
    scope_activity_logs: (s) => `${count("en", (s.logIds || []).length, { one: "activity log entry", other: "activity log entries" })}`,
    breach: (d, at) => `SLA deadline missed (${d}, was due ${at}); the privacy officer was alerted`,
    range_from_to: (a, b) => `between ${a} and ${b}`, range_from: (a) => `from ${a} on`, range_to: (b) => `up to ${b}`,
    in_days: (n) => `in ${count("en", n, { one: "day", other: "days" })}`, today: "today", passed: "passed", overdue: "overdue",
    cat_s3_objects: "files (S3 objects)", of: "of", destroyed: "destroyed", you: "you",
    cat_account_profile: "account profile", cat_team_member: "team members", cat_bot: "bots", cat_channel_connection: "channel connections", cat_connection_key: "connection channel ids",
    cat_api_token: "API tokens", cat_webhook: "webhooks", cat_integration: "integrations", cat_template: "templates", cat_tag: "tags",
    cat_account_file: "account files", cat_activity_log: "activity log entries", cat_end_user_profile: "end-user profiles",
    cat_channel_identity: "channel identities", cat_name_token: "name search entries", cat_conversation: "conversations",
    cat_message: "messages", cat_inbox_message: "inbox messages", cat_end_user_file: "end-user files", cat_contact: "contacts",
    cat_end_user_tag: "end-user tags", cat_note: "notes", cat_payment: "payments", cat_consent: "consents",
    channel_telegram: "Telegram", channel_whatsapp: "WhatsApp", channel_messenger: "Messenger", channel_instagram: "Instagram",
    channel_slack: "Slack", channel_vk: "VK", channel_viber: "Viber",
    verif_verified: "Verified", verif_ask: "Ask for proof", verif_ask_again: "Send a new code",
    verif_none: "The requester has not proved the chat is theirs.",
    verif_verified_text: (ch, at) => `The requester entered the code sent to the ${ch} chat (${at}).`,
    verif_pending: (ch, at, until) => `A code went to the ${ch} chat ${at}; the requester may enter it on their status page until ${until}.`,
    verif_expired: (ch) => `The code sent to the ${ch} chat expired or its tries are used up.`,
    note_verification_sent: (ch) => `A one-time code was sent to the end user's ${ch} chat`,
    note_verification_undelivered: "The channel did not deliver the one-time code",
    note_verified: (ch) => `The requester entered the one-time code sent to the end user's ${ch} chat`,
    verif_help: "Proof: the bot sends a one-time code into the end user's chat, and the requester enters it on their status page.",
  },
  ru: {
    kind_account_deletion: "Удаление аккаунта", kind_bot_deletion: "Удаление бота", kind_connection_wipe: "Очистка подключения канала",
    kind_end_user_filter: "Удаление по фильтру приватности", kind_end_user_deletion: "Удаление конечного пользователя",
    kind_channel_identity_deletion: "Запрос канала на удаление", kind_inbox_message_deletion: "Удаление сообщения из входящих",
    kind_activity_log_deletion: "Удаление журнала действий", kind_end_customer_request: "Запрос конечного клиента",
    status_received: "получен", status_awaiting_verification: "ждёт решения", status_scheduled: "запланирован",
    status_soft_deleted: "деактивирован (можно восстановить)", status_cancelled: "отменён", status_hard_deleting: "удаляется",
    status_awaiting_backup_rotation: "ждёт ротации резервных копий", status_completed: "выполнен", status_held: "приостановлен (юридическое удержание)",
    status_declined: "отклонён", status_failed: "сбой (им занимается ответственный за ПДн)",
    deadline_start_by: "Обработка начнётся до", deadline_soft_delete_ends: "Можно восстановить до",
    deadline_hard_delete_by: "Окончательное удаление до", deadline_backups_rotated_by: "Резервные копии обновятся до",
    deadline_complete_by: "Выполнить до", deadline_escalate_at: "Перейдёт к ответственному за ПДн",
    deadline_decide_by: "Решение до", deadline_final_mail_by: "Письмо об итоге до",
    ops_status_failed: "сбой", ops_status_held: "приостановлен (юридическое удержание)",
    src_dashboard: "личный кабинет", src_email: "почта", src_webhook: (c) => `запрос канала (${c})`, src_retention: "удаление по срокам хранения",
    src_sweep: (c) => `проверка подключения (${c})`,
    src_operator: "ответственный за ПДн", src_end_customer: "форма запроса конечного клиента",
    actor_system: "Lethe (автоматически)", actor_workflow: "Lethe (процесс удаления)", actor_sweep: "Lethe (проверка сроков)",
    actor_channel_sweep: (c) => `Lethe (проверка подключения: ${c} дважды отклонил ключ доступа)`,
    actor_email: "письмо в Lethe", actor_webhook: (c) => `канал (${c})`, actor_operator: (n) => `ответственный за ПДн ${n}`,
    actor_end_customer: "конечный клиент",
    scope_account: () => "Весь аккаунт",
    scope_bot: (s) => `Бот ${s.botId}`,
    scope_connection: (s) => `Подключение канала ${s.connectionId || ""}${s.channel ? ` (${s.channel})` : ""} бота ${s.botId}`,
    scope_end_user: (s) => `Пользователь ${s.endUserId} бота ${s.botId}`,
    scope_end_user_filter: (s) => `Пользователи ${s.botId ? "бота " + s.botId : "всех ботов"}${s.range ? ", чей первый диалог был " + s.range : ""}`,
    scope_channel_identity: (s) => `Все, кого канал ${s.channel || ""} знает под одним идентификатором${s.botId ? ", в боте " + s.botId : ""}`,
    scope_inbox_message: (s) => `Входящее сообщение ${s.messageId} пользователя ${s.endUserId} бота ${s.botId}`,
    scope_activity_logs: (s) => `${count("ru", (s.logIds || []).length, { one: "запись", few: "записи", many: "записей" })} журнала действий`,
    breach: (d, at) => `Нарушен срок (${d}, до ${at}); ответственный за ПДн уведомлён`,
    range_from_to: (a, b) => `с ${a} по ${b}`, range_from: (a) => `начиная с ${a}`, range_to: (b) => `до ${b}`,
    in_days: (n) => `через ${count("ru", n, { one: "день", few: "дня", many: "дней" })}`, today: "сегодня", passed: "прошло", overdue: "просрочено",
    cat_s3_objects: "файлы (объекты S3)", of: "из", destroyed: "удалено", you: "вы",
    cat_account_profile: "профиль аккаунта", cat_team_member: "участники команды", cat_bot: "боты", cat_channel_connection: "подключения каналов", cat_connection_key: "идентификаторы подключений в каналах",
    cat_api_token: "API-токены", cat_webhook: "вебхуки", cat_integration: "интеграции", cat_template: "шаблоны", cat_tag: "теги",
    cat_account_file: "файлы аккаунта", cat_activity_log: "записи журнала действий", cat_end_user_profile: "профили конечных пользователей",
    cat_channel_identity: "идентификаторы в каналах", cat_name_token: "записи поиска по имени", cat_conversation: "диалоги",
    cat_message: "сообщения", cat_inbox_message: "входящие сообщения", cat_end_user_file: "файлы конечных пользователей", cat_contact: "контакты",
    cat_end_user_tag: "теги конечных пользователей", cat_note: "заметки", cat_payment: "платежи", cat_consent: "согласия",
    channel_vk: "ВКонтакте",
    verif_verified: "Подтверждён", verif_ask: "Запросить подтверждение", verif_ask_again: "Отправить новый код",
    verif_none: "Заявитель не подтверждал, что чат принадлежит ему.",
    verif_verified_text: (ch, at) => `Заявитель ввёл код, отправленный в чат ${ch} (${at}).`,
    verif_pending: (ch, at, until) => `Код отправлен в чат ${ch} ${at}; заявитель может ввести его на странице статуса до ${until}.`,
    verif_expired: (ch) => `Код, отправленный в чат ${ch}, истёк или попытки исчерпаны.`,
    note_verification_sent: (ch) => `Одноразовый код отправлен в чат ${ch} конечного пользователя`,
    note_verification_undelivered: "Канал не доставил одноразовый код",
    note_verified: (ch) => `Заявитель ввёл одноразовый код, отправленный в чат ${ch} конечного пользователя`,
    verif_help: "Подтверждение: бот отправит одноразовый код в чат конечного пользователя, а заявитель введёт его на странице статуса запроса.",
  },
};

const RULES = { en: new Intl.PluralRules("en"), ru: new Intl.PluralRules("ru") };

// plural picks the form of a noun that follows the count n in lang: forms has the language's
// plural categories, one and other in English, one, few and many in Russian ("1 пользователь",
// "3 пользователя", "5 пользователей"). A missing category falls back to other, then many.
export function plural(n, forms, lang = (window.Lethe && window.Lethe.lang) || "en") {
  const cat = (RULES[lang] || RULES.en).select(n);
  return forms[cat] ?? forms.other ?? forms.many ?? forms.one;
}

// count writes the count and its noun: count("en", 1, {one: "bot user", other: "bot users"}).
export function count(lang, n, forms) {
  return `${n} ${plural(n, forms, lang)}`;
}

// useStyles links requests.css, the layout these screens share, once.
export function useStyles() {
  if (document.querySelector("link[data-requests-css]")) return;
  const l = document.createElement("link");
  l.rel = "stylesheet";
  l.href = "requests.css";
  l.dataset.requestsCss = "";
  document.head.append(l);
}

// label looks key up in lang, then English, then answers the key itself (a new kind or category
// still shows).
export function label(lang, key, ...args) {
  for (const tb of [LABELS[lang], LABELS.en]) {
    if (tb && key in tb) return typeof tb[key] === "function" ? tb[key](...args) : tb[key];
  }
  return key.replace(/^[a-z]+_/, "").replaceAll("_", " ");
}

// statusText names a status; officer picks the officer's wording where it differs ("failed"
// rather than "failed (the privacy officer is on it)").
export function statusText(lang, status, officer) {
  if (officer && ("ops_status_" + status) in LABELS.en) return label(lang, "ops_status_" + status);
  return label(lang, "status_" + status);
}

// sourceText names where a request came from: dashboard, email, webhook:<channel>, retention,
// operator, …
export function sourceText(lang, source) {
  const [src, arg] = String(source || "").split(/:(.*)/s);
  if (src === "sweep" && arg) return label(lang, "src_sweep", channelName(lang, arg));
  return label(lang, "src_" + src, arg || "");
}

// actorText names who caused a history event: "owner:<sub>" reads as the role (the shell's role_…
// strings), "operator:<sub> (<name>)" as the privacy officer by name, "system", "workflow",
// "sweep:…", "email" and "webhook:<channel>" as what they are.
export function actorText(lang, actor) {
  const [who, rest = ""] = String(actor || "").split(/:(.*)/s);
  const t = (k) => (window.Lethe ? window.Lethe.t(k) : k);
  if (who === "operator" || who === "privacy_officer") {
    const m = /\((.*)\)\s*$/.exec(rest);
    return label(lang, "actor_operator", m ? m[1] : rest);
  }
  // "sweep:sla" is the deadline sweep; "sweep:<channel>" the connection-health sweep's wipe.
  if (who === "sweep" && rest && rest !== "sla") return label(lang, "actor_channel_sweep", channelName(lang, rest));
  if (who === "sweep") return label(lang, "actor_sweep");
  if (["owner", "account_admin", "bot_admin", "member"].includes(who)) return t("role_" + who);
  const key = "actor_" + who;
  if (key in LABELS.en) return label(lang, key, rest);
  return actor;
}

const BREACH = /^SLA deadline missed, privacy officer alerted: ([a-z_]+) was due (\S+)$/;

// The notes of a one-time code (internal/request: verification_sent, verified), by the channel.
const VERIF_SENT = /^verification_sent: a one-time code to the end user's (\S+) chat$/;
const VERIF_UNDELIVERED = /^verification_sent: the channel did not deliver/;
const VERIFIED = /^verified: the requester entered the code sent to the end user's (\S+) chat$/;

// noteText reads a history note: a breach note ("… complete_by was due <time>") names the deadline
// in words, a one-time code's note says what happened to it; any other note is shown as written.
export function noteText(lang, note) {
  let v;
  if ((v = VERIF_SENT.exec(note || ""))) return label(lang, "note_verification_sent", label(lang, "channel_" + v[1]));
  if (VERIF_UNDELIVERED.test(note || "")) return label(lang, "note_verification_undelivered");
  if ((v = VERIFIED.exec(note || ""))) return label(lang, "note_verified", label(lang, "channel_" + v[1]));
  const m = BREACH.exec(note || "");
  if (!m) return note || "";
  const at = window.Lethe ? window.Lethe.fmtDate(m[2]) : m[2];
  return label(lang, "breach", label(lang, "deadline_" + m[1]), at);
}

// channelName is a channel as people call it ("VK / ВКонтакте"), or its id when it has no label.
function channelName(lang, channel) {
  return "channel_" + channel in LABELS.en ? label(lang, "channel_" + channel) : channel;
}

// scopeText says what a request deletes as a sentence: "Bot user 01… of bot 01…".
export function scopeText(lang, scope = {}) {
  const s = { ...scope };
  const day = (v) => (window.Lethe ? window.Lethe.fmtDate(v, false) : String(v).slice(0, 10));
  if (s.from && s.to) s.range = label(lang, "range_from_to", day(s.from), day(s.to));
  else if (s.from) s.range = label(lang, "range_from", day(s.from));
  else if (s.to) s.range = label(lang, "range_to", day(s.to));
  const key = "scope_" + s.kind;
  if (key in LABELS.en) return label(lang, key, s);
  return label(lang, key);
}

// daysUntil counts calendar days from now to at, a part day counted whole; negative once passed.
export function daysUntil(at, now = Date.now()) {
  const ms = new Date(at).getTime() - now;
  return ms <= 0 ? Math.floor(ms / 86400000) : Math.ceil(ms / 86400000);
}

// dueText says when a deadline falls: "in 5 days", "today", "passed".
export function dueText(lang, at, closed) {
  const d = daysUntil(at);
  if (d > 0) return label(lang, "in_days", d);
  if (d === 0) return label(lang, "today");
  return label(lang, closed ? "passed" : "overdue");
}

// progressBars shows what a request destroyed, per category: a bar of done against the planned
// total where the deletion counted one, else the count alone.
export function progressBars(el, lang, progress = {}, planned = {}) {
  const cats = [...new Set([...Object.keys(planned), ...Object.keys(progress)])].sort();
  if (cats.length === 0) return null;
  const list = el("ul", { class: "plain progress-list", "data-testid": "progress" });
  for (const cat of cats) {
    const done = progress[cat] || 0;
    const total = planned[cat];
    const name = label(lang, "cat_" + cat);
    const text = total ? `${name}: ${done} ${label(lang, "of")} ${total}` : `${name}: ${done} ${label(lang, "destroyed")}`;
    const id = `p-${Math.random().toString(36).slice(2)}`;
    list.append(el("li", { dataset: { category: cat } },
      el("span", { id }, text),
      total ? el("progress", { max: String(total), value: String(Math.min(done, total)), "aria-labelledby": id }) : null));
  }
  return list;
}

// whoDecided names who decided an end-customer request: "owner:<sub>" reads as the role (the
// shell's role_… strings), "you" for the caller, and the privacy officer as such.
export function whoDecided(t, by, me) {
  const [role, sub] = String(by || "").split(/:(.*)/s);
  const lang = (window.Lethe && window.Lethe.lang) || "en";
  if (role === "privacy_officer" || role === "operator") return t("officer");
  const name = t("role_" + role);
  return me && sub === me.sub ? `${name} (${label(lang, "you")})` : name;
}

// verificationBox says whether the requester of an end-customer request proved they control the
// chat (r.verification: a one-time code the bot sent into it, entered on their status page) with a
// "Verified" mark, and, when ask is given (the request awaits a decision and the caller may ask),
// a button that asks for the proof. ask() posts the ask and answers what was sent; a failure is
// shown with errorBox(e).
export function verificationBox(el, lang, r, ask, errorBox) {
  let v = r.verification || { status: "none" };
  const box = el("div", { class: "verification", "data-testid": `verification-${r.id}` });
  const fmt = (at) => (window.Lethe ? window.Lethe.fmtDate(at) : at);
  const ch = () => label(lang, "channel_" + v.channel);
  const draw = (err) => {
    box.dataset.status = v.status;
    const text = {
      none: () => label(lang, "verif_none"),
      pending: () => label(lang, "verif_pending", ch(), fmt(v.sentAt), fmt(v.expiresAt)),
      verified: () => label(lang, "verif_verified_text", ch(), fmt(v.verifiedAt)),
      expired: () => label(lang, "verif_expired", ch()),
    }[v.status] || (() => "");
    box.replaceChildren(
      v.status === "verified" ? el("strong", { class: "ok verified-mark", "data-testid": "verified-mark" }, "✓ " + label(lang, "verif_verified")) : "",
      el("p", { "data-testid": "verification-text" }, text()));
    if (ask && v.status !== "verified") {
      const btn = el("button", { type: "button", class: "secondary", "data-testid": `ask-proof-${r.id}`, title: label(lang, "verif_help") },
        label(lang, v.status === "none" ? "verif_ask" : "verif_ask_again"));
      btn.addEventListener("click", async () => {
        btn.disabled = true;
        try {
          const sent = await ask();
          v = { status: "pending", endUserId: sent.endUserId, channel: sent.channel, sentAt: sent.sentAt, expiresAt: sent.expiresAt };
          draw();
        } catch (e) {
          draw(e);
        }
      });
      box.append(el("p", { class: "help" }, label(lang, "verif_help")), el("div", { class: "row" }, btn));
    }
    if (err) box.append(errorBox(err));
  };
  draw();
  return box;
}
