/**
 * The report's stylesheet, inlined in its `<style>` (the CSP allows inline styles and nothing
 * else). Light theme, system fonts; print rules keep charts and table rows whole on a page.
 * The SVGs carry their own colours as attributes, so they still read where a mail client strips
 * the stylesheet.
 */
export const REPORT_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f8fafc; color: #0f172a;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 24px; margin: 0 0 6px; line-height: 1.2; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #e2e8f0; break-after: avoid; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.meta { color: #475569; margin: 2px 0; }
.muted { color: #64748b; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

.banner { margin: 16px 0 4px; padding: 12px 16px; border: 1px solid; border-radius: 8px; }
.banner-line { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: baseline; }
.banner .verdict { font-size: 20px; font-weight: 700; letter-spacing: 0.05em; }
.banner p { margin: 6px 0 0; }
.banner-pass { background: #f0fdf4; border-color: #86efac; color: #14532d; }
.banner-fail { background: #fef2f2; border-color: #fca5a5; color: #7f1d1d; }
.banner-neutral { background: #f1f5f9; border-color: #cbd5e1; color: #334155; }
.banner-error { font-weight: 600; }

.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin-top: 18px; }
.stat { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px 12px; break-inside: avoid; }
.stat .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .label { color: #64748b; font-size: 12px; }

figure.chart { margin: 0 0 14px; padding: 10px 12px 8px; background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; break-inside: avoid; }
figure.chart figcaption { font-weight: 600; margin-bottom: 4px; }
figure.chart svg { display: block; width: 100%; height: auto; font-family: inherit; }
.note { font-weight: 400; color: #64748b; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 2px 16px; margin: 4px 0 0; padding: 0; font-size: 12px; color: #334155; }
.swatch { display: inline-block; width: 18px; border-top: 3px solid; vertical-align: middle; margin-right: 6px; }
.swatch.dashed { border-top-style: dashed; }
.marker-key { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; font-size: 12px; margin-bottom: 10px; }
.marker-key .legend { margin: 0; }
.dot { display: inline-block; width: 0; height: 0; border: 4px solid; border-radius: 50%; margin-right: 6px; vertical-align: middle; }

table { width: 100%; border-collapse: collapse; background: #fff; font-size: 13px; border: 1px solid #e2e8f0; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #e2e8f0; }
thead th { background: #f1f5f9; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.message { overflow-wrap: anywhere; }
table.versions { width: auto; min-width: 320px; }
table.versions th { background: #f8fafc; font-weight: 600; }
.state { font-weight: 600; }
.state-held, .state-done, .state-passing { color: #15803d; }
.state-failed, .state-failing { color: #b91c1c; }
.state-pending { color: #64748b; }
.level-warn { color: #b45309; }
.level-error { color: #b91c1c; font-weight: 600; }
.cut { color: #b45309; }
pre { margin: 0; padding: 12px; background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; font-size: 12px; line-height: 1.4; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { margin-top: 32px; color: #64748b; font-size: 12px; }

@page { margin: 12mm; }
@media print {
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  figure.chart, .stat, pre, table { border-color: #cbd5e1; }
  .stats { grid-template-columns: repeat(6, 1fr); gap: 6px; }
  .stat .value { font-size: 16px; }
}
`;
