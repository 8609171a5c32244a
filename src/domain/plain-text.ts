// Text normalisation shared by readers and fingerprints: HTML bodies to plain text, whitespace rules.
import { convert, type HtmlToTextOptions } from 'html-to-text'

// Links keep only their text and images vanish: Outlook turns a typed URL into <a href=URL>URL</a>, and
// printing the href as well would make the same body read differently from the two systems.
const HTML_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  // HTML's own whitespace only. The converter's default adds the zero-width space (U+200B), which would make a body
  // holding one read as a space in HTML but keep it in plain text, so one text fingerprinted two ways.
  whitespaceCharacters: ' \t\r\n\f',
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
    { selector: 'th', format: 'inlineSurround', options: { suffix: ' ' } },
    { selector: 'td', format: 'inlineSurround', options: { suffix: ' ' } },
  ],
}

// What is HTML on its own: a document's tags, a line break or rule, an image with a source.
// A tag name ends at a space, / or >: "<style-guide>" and "<HR-Team>" are words in angle brackets, not tags.
const HTML_ALONE = /<!DOCTYPE\s|<(?:html|head|body|meta|style|br|hr)(?=[\s/>])[^<>]*>|<img\s[^<>]*\bsrc\s*=/i
const PAIRED = 'div|span|p|b|i|u|s|em|strong|font|a|ul|ol|li|table|tbody|thead|tr|td|th|h[1-6]|pre|blockquote|center|o:p'
const OPENING = new RegExp(`<(${PAIRED})(?=[\\s/>])[^<>]*>`, 'gi')
const CLOSING = new RegExp(`</(${PAIRED})\\s*>`, 'gi')

/**
 * A heuristic for text that says nothing of its type (a description string, from a flow or a Salesforce Description
 * a flow filled with an Outlook body): plain text like "a < b", "press <Enter>" or "a<b and c>d" must stay text, so
 * a well-known tag counts only with its closing tag somewhere in the text (or as one of HTML_ALONE).
 */
export function looksLikeHtml(text: string): boolean {
  if (!text.includes('<')) return false
  if (HTML_ALONE.test(text)) return true
  const closed = new Set<string>()
  for (const [, name] of text.matchAll(CLOSING)) closed.add(name.toLowerCase())
  if (closed.size === 0) return false
  for (const [, name] of text.matchAll(OPENING)) if (closed.has(name.toLowerCase())) return true
  return false
}

/** HTML nested deeper than the converter's recursion can walk (a few thousand levels); never from a real mail client. */
export class HtmlTooDeepError extends Error {
  constructor() {
    super('holds HTML nested too deeply to read as text')
    this.name = 'HtmlTooDeepError'
  }
}

export function htmlToPlainText(html: string): string {
  let text: string
  try {
    text = convert(html, HTML_OPTIONS)
  } catch (error) {
    // html-to-text walks the parsed tree recursively, so a deep enough tree overflows the stack.
    if (error instanceof RangeError && /call stack/i.test(error.message)) throw new HtmlTooDeepError()
    throw error
  }
  return normalizeMultilineText(text)
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
