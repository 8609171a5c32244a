// The meeting as humans edit it (canonical values), and how each calendar's UI stores it natively.
import { DateTime } from 'luxon'
import type { ShowAs } from '../src/domain/calendar-item.js'
import { resolveTimeZone } from '../src/domain/time-zones.js'
import type { Random } from './random.js'

export interface MeetingFields {
  subject: string
  /** Timed: UTC instant; all-day: date. */
  start: string
  end: string
  isAllDay: boolean
  location: string
  description: string
  showAs: ShowAs
  isPrivate: boolean
}

export type MeetingPatch = Partial<MeetingFields>
export type EditKind = 'subject' | 'time' | 'location' | 'description' | 'showAs' | 'isPrivate' | 'longSubject'

const TOPICS = ['Quarterly review', 'Pipeline sync', 'Renewal – Northwind', 'Kick-off Contoso', 'Démo produit', 'Board prep', 'Hiring loop', 'QBR Fabrikam']
const ROOMS = ['Room 4.12', 'Teams', 'Customer site, Lyon', 'Café Europa', 'Building B / 2nd floor', 'Zürich HQ – Saal 3', '']
const LINES = [
  'Agenda: numbers, risks & next steps',
  'Bring the signed NDA.',
  'Dial-in: see the invitation',
  'Notes from last time <confidential>',
  'Prévoir 10 min de questions',
  'Parking at the back entrance',
]
export const OUTLOOK_ZONES = ['W. Europe Standard Time', 'Pacific Standard Time', 'UTC', 'Eastern Standard Time', 'Romance Standard Time']

/** A fresh meeting in the week of 9 March 2026; one in eight is all-day. */
export function newMeeting(rng: Random, meeting: number): MeetingFields {
  const allDay = rng.chance(0.125)
  const day = rng.int(0, 4)
  const base = DateTime.fromISO('2026-03-09', { zone: 'utc' }).plus({ days: day })
  let start: string
  let end: string
  if (allDay) {
    start = base.toISODate() as string
    end = base.plus({ days: rng.int(1, 2) }).toISODate() as string
  } else {
    const startAt = base.plus({ minutes: 8 * 60 + 15 * rng.int(0, 36) })
    start = new Date(startAt.toMillis()).toISOString()
    end = new Date(startAt.plus({ minutes: rng.pick([30, 45, 60, 90]) }).toMillis()).toISOString()
  }
  return {
    subject: `${rng.pick(TOPICS)} #${meeting}`,
    start,
    end,
    isAllDay: allDay,
    location: rng.pick(ROOMS),
    description: `${rng.pick(LINES)}\n${rng.pick(LINES)}`,
    showAs: 'busy',
    isPrivate: false,
  }
}

/** One human edit of the given kind, relative to the meeting as it is now; `revision` keeps most values new. */
export function editMeeting(
  rng: Random,
  current: MeetingFields,
  kind: EditKind,
  side: 'outlook' | 'salesforce',
  meeting: number,
  revision: number,
): MeetingPatch {
  switch (kind) {
    case 'subject':
      return { subject: `${rng.pick(TOPICS)} #${meeting} (rev ${revision})` }
    case 'longSubject':
      // Outlook takes any length; Salesforce keeps 255 characters: equal when the first 255 agree.
      return { subject: `${rng.pick(TOPICS)} #${meeting} rev ${revision} ${'– details '.repeat(30)}` }
    case 'location':
      return { location: rng.chance(0.5) ? `${rng.pick(ROOMS)} ${revision}`.trim() : rng.pick(ROOMS) }
    case 'description':
      return { description: `${rng.pick(LINES)} (rev ${revision})\n\n${rng.pick(LINES)}` }
    case 'showAs': {
      const choices: ShowAs[] = side === 'outlook' ? ['busy', 'free', 'oof', 'tentative', 'workingElsewhere'] : ['busy', 'free', 'oof']
      return { showAs: rng.pick(choices) }
    }
    case 'isPrivate':
      return { isPrivate: !current.isPrivate }
    case 'time':
      return moveMeeting(rng, current)
  }
}

function moveMeeting(rng: Random, current: MeetingFields): MeetingPatch {
  if (current.isAllDay) {
    const start = DateTime.fromISO(current.start, { zone: 'utc' }).plus({ days: rng.pick([-2, -1, 1, 2]) })
    return { start: start.toISODate() as string, end: start.plus({ days: rng.int(1, 2) }).toISODate() as string, isAllDay: true }
  }
  const start = Date.parse(current.start) + rng.pick([-120, -60, -30, -15, 15, 30, 60, 120]) * 60_000
  const length = rng.chance(0.3) ? rng.pick([30, 45, 60, 90]) * 60_000 : Date.parse(current.end) - Date.parse(current.start)
  return { start: new Date(start).toISOString(), end: new Date(start + length).toISOString(), isAllDay: false }
}

/** Graph wall-clock time in a Windows or IANA zone, seven fraction digits as Graph writes them. */
export function graphLocalTime(instant: string, zoneName: string): { dateTime: string; timeZone: string } {
  const zone = resolveTimeZone(zoneName)?.zone ?? 'UTC'
  const local = DateTime.fromISO(instant, { zone: 'utc' }).setZone(zone)
  return { dateTime: `${local.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS")}0000`, timeZone: zoneName }
}

export function graphAllDayTime(date: string, zoneName: string): { dateTime: string; timeZone: string } {
  return { dateTime: `${date}T00:00:00.0000000`, timeZone: zoneName }
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** How Outlook stores a body typed by a person: HTML paragraphs. */
export function outlookHtmlBody(text: string): string {
  const paragraphs = text
    .split(/\n{2,}/)
    .map((p) => `<p class="MsoNormal">${p.split('\n').map(escapeHtml).join('<br>')}</p>`)
    .join('\r\n')
  return `<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head><body>\r\n<div class="WordSection1">${paragraphs}</div>\r\n</body></html>`
}

/** How Exchange stores a text body written through Graph: it becomes HTML, one div per line. */
export function exchangeHtmlFromText(text: string): string {
  const lines = text.split('\n').map((line) => (line.trim() === '' ? '<div><br></div>' : `<div>${escapeHtml(line)}</div>`))
  return `<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n${lines.join('\r\n')}\r\n</body>\r\n</html>\r\n`
}
