/** Longer subjects are cut here, and the whole summary moves into the body. */
const SUBJECT_MAX = 100;

/**
 * `chore(deploy): <summary>`, then a blank line and the user's text. A summary too long for a subject
 * line is shortened there and given in full as the first paragraph of the body.
 */
export function defaultCommitMessage(summary: string, userText?: string): string {
  const oneLine = summary.replace(/\s+/g, " ").trim() || "no changes";
  let subject = `chore(deploy): ${oneLine}`;
  const body: string[] = [];
  if (subject.length > SUBJECT_MAX) {
    const cut = subject.slice(0, SUBJECT_MAX - 1);
    const space = cut.lastIndexOf(" ");
    subject = `${space > SUBJECT_MAX / 2 ? cut.slice(0, space) : cut}…`;
    body.push(oneLine);
  }
  const text = (userText ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .trim();
  if (text !== "") body.push(text);
  return body.length > 0 ? `${subject}\n\n${body.join("\n\n")}` : subject;
}
