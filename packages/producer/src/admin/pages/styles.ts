import { SafeHtml } from '../safe-html.ts';

/** The dashboard's whole stylesheet (inline: no asset pipeline; a constant, so not escaped). */
export const STYLES = new SafeHtml(`
:root { color-scheme: light; --fg: #1d2330; --muted: #5d6677; --line: #d9dee7; --bg: #f6f7fa;
  --ok: #2f9e62; --dead: #c8433a; --warn: #b7791f; --accent: #2f5fd0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: #1d2330; color: #fff; }
header.top a { color: #dfe6f5; text-decoration: none; }
header.top .brand { font-weight: 700; font-size: 1.1rem; color: #fff; }
nav { display: flex; gap: 1rem; align-items: center; flex: 1; }
nav form { margin-left: auto; }
main { padding: 1rem 1.2rem 3rem; max-width: 1300px; }
h1 { font-size: 1.35rem; margin: .3rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .4rem 1rem 1rem; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f1f3f7; border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 28rem; }
.muted { color: var(--muted); }
.simulator { background: #ffe066; color: #3d2f00; border-bottom: 3px solid #d9a400; padding: .6rem 1.2rem; font-size: 1rem; }
.notice { background: #e3f4ea; border-bottom: 1px solid #b5dfc5; padding: .5rem 1.2rem; }
.error { color: var(--dead); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: .8rem; font-weight: 600; background: #e6e9ef; }
.badge.ok { background: #dff3e7; color: #1d6b41; }
.badge.warn { background: #fff0d1; color: #7a4d00; }
.badge.bad { background: #fbe1df; color: #8f2a23; }
.bar { display: flex; width: 14rem; height: .8rem; background: #e6e9ef; border-radius: 4px; overflow: hidden; }
.bar span { display: block; height: 100%; }
.bar .ok { background: var(--ok); } .bar .dead { background: var(--dead); } .bar .cancelled { background: #8a93a6; }
ul.gallery { list-style: none; padding: 0; margin: .6rem 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(172px, 1fr)); gap: .8rem; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: .35rem; background: #fafbfc; font-size: .85rem; }
.tile img, .tile .no-image { display: block; width: 160px; height: 160px; object-fit: cover; border-radius: 4px; background: #e6e9ef; }
.tile .no-image { display: flex; align-items: center; justify-content: center; color: var(--muted); }
.tile-error { color: var(--dead); font-size: .8rem; overflow-wrap: anywhere; }
.pager { font-weight: normal; font-size: .9rem; color: var(--muted); }
.pager a { margin-left: .5rem; }
form.inline { display: inline; margin: 0; }
button { font: inherit; padding: .2rem .7rem; border: 1px solid #9aa6bb; border-radius: 4px; background: #fff; cursor: pointer; }
button:hover { background: #eef2fb; }
button.danger { border-color: #d99a95; color: #8f2a23; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.link { border: none; background: none; color: #dfe6f5; padding: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: .6rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.login { max-width: 22rem; margin: 4rem auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1.2rem 1.5rem; }
.login label { display: block; margin: .6rem 0 .2rem; }
.login input { width: 100%; padding: .4rem; font: inherit; }
.login button { margin-top: 1rem; width: 100%; padding: .45rem; }
.actions { display: flex; gap: 1.5rem; margin: .8rem 0; align-items: center; }
label.confirm { font-size: .85rem; color: var(--muted); }
nav.ranges { display: flex; gap: .8rem; margin: .2rem 0 .6rem; }
nav.ranges a { color: var(--accent); text-decoration: none; padding: 0 .3rem; }
nav.ranges a[aria-current] { font-weight: 700; border-bottom: 2px solid var(--accent); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 1rem; }
figure.chart { margin: 0; min-width: 0; }
figure.chart figcaption { font-weight: 600; color: var(--muted); font-size: .85rem; margin-bottom: .2rem; }
figure.chart .plot { min-height: 220px; }
`);
