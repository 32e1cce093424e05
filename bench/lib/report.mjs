// Turns the summary into the markdown table (printed and written to RESULTS.md) and the SVG bar
// chart (bench/chart.svg). No dependency: the SVG is written by hand.
import { MEMORY_TARGETS, PATHS, SCENARIOS } from './scenarios.mjs'

const fmt = {
  int: (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–'),
  ratio: (v) => (Number.isFinite(v) ? v.toFixed(2) : '–'),
  ms: (v) => (Number.isFinite(v) ? v.toFixed(2) : '–'),
  us: (v) => (Number.isFinite(v) ? v.toFixed(1) : '–'),
  mb: (v) => (Number.isFinite(v) ? (v / 1048576).toFixed(0) : '–'),
  pct: (v) => {
    if (!Number.isFinite(v)) return '–'
    if (Math.abs(v) < 0.00005) return '0 %'
    return `${(v * 100).toFixed(Math.abs(v) < 0.01 ? 2 : 0)} %`
  },
}

/** Median of the finite numbers in `values` (NaN when none). */
export function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** The first problems and the server's error message, short enough for a table cell. */
function briefProblems(problems) {
  const checks = problems.filter((p) => !p.startsWith('server stderr:'))
  const stderr = problems.find((p) => p.startsWith('server stderr:'))
  const error = stderr?.split('\n').find((line) => /Error\b|error:/.test(line))?.trim()
  const shown = checks.slice(0, 2).join('; ') + (checks.length > 2 ? `; … (${checks.length - 2} more)` : '')
  return (shown + (error ? `; server: ${error.slice(0, 200)}` : '')).replace(/\n/g, ' ')
}

function targetCell(targets, scenario, path) {
  const t = targets.filter((x) => x.scenario === scenario && x.path === path)
  if (t.length === 0) return ''
  return t.map((x) => `${x.text}: **${fmt.ratio(x.ratio)}** ${x.pass === undefined ? '–' : x.pass ? '✅ pass' : '❌ miss'}`).join('<br>')
}

/** The markdown report. */
export function markdown(results) {
  const { summary, targets, statuses, config, machine } = results
  const out = []
  out.push(`# Tessera benchmark results`)
  out.push('')
  out.push(
    `${results.date} · ${machine.cpus} × ${machine.cpuModel} · Node ${machine.node} · ${config.rounds} round(s) × ` +
      `${config.warmup} s warm-up + ${config.seconds} s measured per path · ${config.connections} connections, keep-alive, pipelining 1 · ` +
      `Redis client: ${config.redisClient} · run took ${Math.round(results.durationSeconds)} s`,
  )
  const windows = results.rounds.flatMap((r) => [...r.bare, ...Object.values(r.runs)]).flatMap((run) => PATHS.map((p) => run[p]))
  const busy = windows.filter((w) => w.busy).length
  out.push('')
  out.push(
    `Machine load: other processes used a median of ${median(windows.map((w) => w.otherCores)).toFixed(2)} cores during the measured windows; ` +
      `${busy} of ${windows.length} windows were still busy (> ${config.busyCores} cores) after waiting up to ${config.quietWait} s and ${config.retries} retr${config.retries === 1 ? 'y' : 'ies'}. ` +
      'Where req/s and CPU µs/req disagree, trust CPU µs/req.',
  )
  out.push('')
  out.push('Medians over rounds. `× bare` = req/s ÷ the mean of the bare server measured at the start and the end of the same round. ' +
    'CPU = the server process\'s user+system time per request; `+svc` adds redis-server / PostgreSQL time. ' +
    'Set-Cookie = share of responses carrying one. ⚠ = another process was busy during that window in some round (see README).')
  out.push('')
  out.push('| scenario | path | req/s | × bare | p50 ms | p99 ms | CPU µs/req | +svc µs/req | peak RSS MB | Set-Cookie | DESIGN.md target |')
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const sc of SCENARIOS) {
    const status = statuses[sc.name]
    if (!status) continue
    if (status.state !== 'ok') {
      const why = status.state === 'skipped' ? `skipped: ${status.reason}` : `not measured, self-check failed: ${briefProblems(status.problems)}`
      out.push(`| ${sc.label} (\`${sc.name}\`) | | | | | | | | | | ${why.replace(/\|/g, '\\|')} |`)
      continue
    }
    const s = summary[sc.name]
    if (!s) continue
    for (const path of PATHS) {
      const m = s[path]
      const flags = []
      if (m.busyRounds > 0) flags.push(`⚠ ${m.busyRounds}/${m.rounds}`)
      if (m.mismatches > 0) flags.push(`✗ ${m.mismatches} wrong answers`)
      if (m.errors > 0 || m.non2xx > 0) flags.push(`✗ ${m.errors} errors, ${m.non2xx} non-2xx`)
      const name = path === 'read' ? `${sc.label} (\`${sc.name}\`)` : ''
      out.push(
        `| ${name} | ${path}${flags.length ? ' ' + flags.join(' ') : ''} | ${fmt.int(m.rps)} | ${fmt.ratio(m.xBare)} | ${fmt.ms(m.p50)} | ${fmt.ms(m.p99)} | ` +
          `${fmt.us(m.cpuUs)} | ${m.svcCpuUs ? fmt.us(m.svcCpuUs) : ''} | ${path === 'read' ? fmt.mb(s.rssMax) : ''} | ${fmt.pct(m.setCookieShare)} | ${targetCell(targets, sc.name, path)} |`,
      )
    }
  }
  out.push('')
  const restRows = SCENARIOS.filter((sc) => PATHS.some((p) => Number.isFinite(summary[sc.name]?.[p]?.roundTrips)))
  if (restRows.length) {
    out.push('## Round trips to the Upstash REST server')
    out.push('')
    out.push('HTTP requests the local REST server received per request measured (counted by the server; medians over rounds).')
    out.push('')
    out.push('| scenario | read | modify |')
    out.push('| --- | ---: | ---: |')
    for (const sc of restRows) out.push(`| ${sc.label} (\`${sc.name}\`) | ${summary[sc.name].read.roundTrips?.toFixed(2) ?? ''} | ${summary[sc.name].modify.roundTrips?.toFixed(2) ?? ''} |`)
    out.push('')
  }
  if (targets.length) {
    out.push('## Targets (DESIGN.md)')
    out.push('')
    out.push('| scenario | target | measured (median of per-round ratios) | per round | |')
    out.push('| --- | --- | ---: | --- | --- |')
    for (const t of targets) {
      out.push(
        `| \`${t.scenario}\` | ${t.text} | ${fmt.ratio(t.ratio)} | ${t.perRound.map(fmt.ratio).join(', ')} | ${t.pass === undefined ? 'not measured' : t.pass ? '✅ pass' : '❌ miss'} |`,
      )
    }
    for (const m of memoryTargetRows(results.memory)) out.push(m)
    out.push('')
  }
  if (results.memory) out.push(...memoryMarkdown(results.memory), '')
  out.push('![× bare per scenario](chart.svg)')
  out.push('')
  return out.join('\n')
}

function memoryTargetRows(memory) {
  if (!memory?.tessera) return []
  const rows = []
  const t = memory.tessera
  if (t.scale) {
    rows.push(
      `| \`memory\` | ${MEMORY_TARGETS.bytesPerSession.text} | ${fmt.int(t.scale.bytesBeyondPayload)} B | ${memory.sessions.toLocaleString('en-US')} sessions | ${t.scale.bytesBeyondPayload <= MEMORY_TARGETS.bytesPerSession.max ? '✅ pass' : '❌ miss'} |`,
    )
  }
  if (t.expiry) {
    rows.push(
      `| \`memory\` | ${MEMORY_TARGETS.expiredFreed.text} | ${fmt.pct(t.expiry.freedEarly)} | after ${t.expiry.earlySeconds} s | ${t.expiry.freedEarly >= MEMORY_TARGETS.expiredFreed.min ? '✅ pass' : '❌ miss'} |`,
    )
  }
  return rows
}

/** The memory section (also printed by bench/memory.mjs alone). */
export function memoryMarkdown(memory) {
  const out = []
  out.push(`## Memory: ${memory.sessions.toLocaleString('en-US')} sessions, ${memory.payloadBytes}-byte JSON payload`)
  out.push('')
  out.push('Each store in a fresh `node --expose-gc` process, filled through its own `set`; heap after full GC. ' +
    'Bytes beyond payload = (heapUsed after − before) / N − payload bytes; ids have each library\'s own length. ' +
    `Expiry: every session lives ${memory.lifetimeSeconds} s (Tessera \`MemoryStore({ sweepInterval: 1 })\`), no request afterwards; ` +
    'freed = share of the heap the sessions took that is back, measured after the last expiry.')
  out.push('')
  out.push(`| store | id chars | heap bytes/session | beyond payload | freed +${memory.earlySeconds} s | freed +${memory.lateSeconds} s | entries left | target |`)
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const [name, label] of [['tessera', 'Tessera MemoryStore'], ['next-session', 'next-session MemoryStore'], ['express-session', 'express-session MemoryStore']]) {
    const r = memory[name]
    if (!r) continue
    if (r.error) {
      out.push(`| ${label} | | | | | | | error: ${r.error} |`)
      continue
    }
    const target =
      name === 'tessera'
        ? `${MEMORY_TARGETS.bytesPerSession.text} ${r.scale.bytesBeyondPayload <= MEMORY_TARGETS.bytesPerSession.max ? '✅' : '❌'}; freed within one sweep ${r.expiry.freedEarly >= MEMORY_TARGETS.expiredFreed.min ? '✅' : '❌'}`
        : ''
    out.push(
      `| ${label} | ${r.scale.idLength} | ${fmt.int(r.scale.bytesPerSession)} | ${fmt.int(r.scale.bytesBeyondPayload)} | ${fmt.pct(r.expiry.freedEarly)} | ${fmt.pct(r.expiry.freedLate)} | ${fmt.int(r.expiry.entriesLeft)} | ${target} |`,
    )
  }
  return out
}

// ---------------------------------------------------------------------------
// SVG chart

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const COLORS = {
  tessera: ['#0f766e', '#5eead4'],
  peer: ['#6b7280', '#d1d5db'],
  floor: ['#1e40af', '#93c5fd'],
}

/** Horizontal bars of × bare (read and modify) per scenario, grouped, Tessera beside its peers, targets marked. */
export function chartSvg(results) {
  const { summary, targets, statuses } = results
  const rows = []
  let lastGroup
  for (const sc of SCENARIOS) {
    if (sc.name === 'bare' || !statuses[sc.name]) continue
    if (sc.group !== lastGroup) {
      rows.push({ group: sc.group })
      lastGroup = sc.group
    }
    rows.push({ sc, status: statuses[sc.name], s: summary[sc.name] })
  }
  const values = rows.flatMap((r) => (r.s ? [r.s.read.xBare, r.s.modify.xBare] : [])).filter(Number.isFinite)
  const targetValues = targets.map((t) => t.markAt).filter(Number.isFinite)
  const maxX = Math.max(1.1, ...values, ...targetValues) * 1.05
  const left = 250
  const width = 900
  const plot = width - left - 70
  const x = (v) => left + (Math.max(0, v) / maxX) * plot
  const barH = 9
  const rowH = 2 * barH + 10
  const groupH = 22
  const top = 74
  let y = top
  const parts = []
  for (const r of rows) {
    if (r.group) {
      parts.push(`<text x="12" y="${y + 15}" font-weight="bold" font-size="13">${esc(r.group)}</text>`)
      y += groupH
      continue
    }
    const { sc, status, s } = r
    const isTessera = sc.kind === 'tessera'
    parts.push(`<text x="${left - 8}" y="${y + barH + 5}" text-anchor="end" font-size="12"${isTessera ? ' font-weight="bold"' : ''}>${esc(sc.label)}</text>`)
    if (status.state !== 'ok' || !s) {
      const why = status.state === 'skipped' ? 'skipped: not built yet' : 'self-check failed: not measured'
      parts.push(`<text x="${left + 4}" y="${y + barH + 5}" font-size="11" fill="#b91c1c">${esc(why)}</text>`)
      y += rowH
      continue
    }
    PATHS.forEach((path, i) => {
      const v = s[path].xBare
      const by = y + i * barH
      parts.push(`<rect x="${left}" y="${by}" width="${Math.max(0.5, x(v) - left).toFixed(1)}" height="${barH - 1}" fill="${COLORS[sc.kind][i]}"><title>${esc(`${sc.name} ${path}: ${v.toFixed(2)} × bare`)}</title></rect>`)
      parts.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${by + barH - 1.5}" font-size="9.5" fill="#374151">${v.toFixed(2)}${i === 0 ? ' read' : ' modify'}</text>`)
      for (const t of targets.filter((t) => t.scenario === sc.name && t.path === path && Number.isFinite(t.markAt))) {
        const tx = x(t.markAt).toFixed(1)
        parts.push(`<line x1="${tx}" x2="${tx}" y1="${by - 1.5}" y2="${by + barH + 0.5}" stroke="${t.pass ? '#15803d' : '#dc2626'}" stroke-width="2.5"><title>${esc(`target: ${t.text} (= ${t.markAt.toFixed(2)} × bare here)`)}</title></line>`)
      }
    })
    y += rowH
  }
  const height = y + 30
  const axis = []
  for (let v = 0; v <= maxX + 1e-9; v += maxX > 2.5 ? 0.5 : 0.25) {
    const ax = x(v).toFixed(1)
    axis.push(`<line x1="${ax}" x2="${ax}" y1="${top - 6}" y2="${y}" stroke="#e5e7eb"/>`)
    axis.push(`<text x="${ax}" y="${y + 14}" text-anchor="middle" font-size="10" fill="#6b7280">${v.toFixed(2)}</text>`)
  }
  const one = x(1).toFixed(1)
  axis.push(`<line x1="${one}" x2="${one}" y1="${top - 6}" y2="${y}" stroke="#111827" stroke-dasharray="4 3"/>`)
  axis.push(`<text x="${one}" y="${top - 10}" text-anchor="middle" font-size="10">bare = 1</text>`)
  const legend = [
    ['Tessera read', COLORS.tessera[0]], ['Tessera modify', COLORS.tessera[1]],
    ['peer read', COLORS.peer[0]], ['peer modify', COLORS.peer[1]],
    ['floor read', COLORS.floor[0]], ['floor modify', COLORS.floor[1]],
  ]
  const legendParts = legend.map(([label, color], i) => {
    const lx = 12 + i * 120
    return `<rect x="${lx}" y="28" width="12" height="10" fill="${color}"/><text x="${lx + 16}" y="37" font-size="11">${esc(label)}</text>`
  })
  legendParts.push(`<line x1="${12 + 6 * 120}" x2="${12 + 6 * 120}" y1="26" y2="40" stroke="#dc2626" stroke-width="2.5"/><text x="${18 + 6 * 120}" y="37" font-size="11">target (green: met)</text>`)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="18" font-size="14" font-weight="bold">Requests/s as a multiple of bare node:http (${esc(results.date)}, median of ${results.config.rounds} round(s))</text>`,
    ...legendParts,
    ...axis,
    ...parts,
    `</svg>`,
    '',
  ].join('\n')
}
