// Names and small views the account's request screens share (pages/account-deletion.js,
// pages/requests.js, pages/end-customer.js): request kinds, statuses, deadlines and data-map
// categories in two languages, a deadline with its days left, and progress bars per category.

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
    in_days: (n) => (n === 1 ? "in 1 day" : `in ${n} days`), today: "today", passed: "passed", overdue: "overdue",
    cat_s3_objects: "files (S3 objects)", of: "of", destroyed: "destroyed", you: "you",
    cat_account_profile: "account profile", cat_team_member: "team members", cat_bot: "bots", cat_channel_connection: "channel connections",
    cat_api_token: "API tokens", cat_webhook: "webhooks", cat_integration: "integrations", cat_template: "templates", cat_tag: "tags",
    cat_account_file: "account files", cat_activity_log: "activity log entries", cat_end_user_profile: "end-user profiles",
    cat_channel_identity: "channel identities", cat_name_token: "name search entries", cat_conversation: "conversations",
    cat_message: "messages", cat_inbox_message: "inbox messages", cat_end_user_file: "end-user files", cat_contact: "contacts",
    cat_end_user_tag: "end-user tags", cat_note: "notes", cat_payment: "payments", cat_consent: "consents",
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
    in_days: (n) => `через ${n} ${plural(n, "день", "дня", "дней")}`, today: "сегодня", passed: "прошло", overdue: "просрочено",
    cat_s3_objects: "файлы (объекты S3)", of: "из", destroyed: "удалено", you: "вы",
    cat_account_profile: "профиль аккаунта", cat_team_member: "участники команды", cat_bot: "боты", cat_channel_connection: "подключения каналов",
    cat_api_token: "API-токены", cat_webhook: "вебхуки", cat_integration: "интеграции", cat_template: "шаблоны", cat_tag: "теги",
    cat_account_file: "файлы аккаунта", cat_activity_log: "записи журнала действий", cat_end_user_profile: "профили конечных пользователей",
    cat_channel_identity: "идентификаторы в каналах", cat_name_token: "записи поиска по имени", cat_conversation: "диалоги",
    cat_message: "сообщения", cat_inbox_message: "входящие сообщения", cat_end_user_file: "файлы конечных пользователей", cat_contact: "контакты",
    cat_end_user_tag: "теги конечных пользователей", cat_note: "заметки", cat_payment: "платежи", cat_consent: "согласия",
  },
};

function plural(n, one, few, many) {
  const m10 = n % 10, m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return one;
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
  return many;
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
  return key.replace(/^[a-z]+_/, "");
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
