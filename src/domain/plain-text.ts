// Text normalisation shared by readers and fingerprints: HTML bodies to plain text, whitespace rules.
import { convert, type HtmlToTextOptions } from 'html-to-text'

// Links keep only their text and images vanish: Outlook turns a typed URL into <a href=URL>URL</a>, and
// printing the href as well would make the same body read differently from the two systems.
const HTML_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block' },
    { selector: 'th', format: 'inline' },
    { selector: 'td', format: 'inline' },
  ],
}

const HTML_TAG = /<\/?(?:html|head|body|meta|style|div|span|p|br|hr|b|i|u|s|em|strong|font|a|img|ul|ol|li|table|tbody|thead|tr|td|th|h[1-6]|pre|blockquote|center|o:p)\b[^<>]*>|<!DOCTYPE\s/i

/** A heuristic: plain text like "a < b" must stay text, so only well-known tags count as HTML. */
export function looksLikeHtml(text: string): boolean {
  return HTML_TAG.test(text)
}

export function htmlToPlainText(html: string): string {
  return normalizeMultilineText(convert(html, HTML_OPTIONS))
}

/** Line endings to LF, no trailing blanks per line, at most one empty line in a row, trimmed. */
export function normalizeMultilineText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

/** Every whitespace run (line breaks included) becomes one space; used where layout must not matter. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/** Truncation to at most `max` UTF-16 units (Salesforce counts them that way) without splitting a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text
  const cut = text.slice(0, max)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}
