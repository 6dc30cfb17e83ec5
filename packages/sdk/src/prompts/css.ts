// Adopted into the prompt's shadow root as a constructable stylesheet, so a strict CSP needs no
// nonce. Minimal on purpose: theming goes through custom properties, which inherit into the shadow
// tree; focus rings are the browser's own (nothing here removes an outline).
export const CSS =
  ':host{all:initial;display:block}' +
  '.b{font:16px/1.5 var(--cairn-font,system-ui);color:var(--cairn-fg,#222);background:var(--cairn-bg,#fff);border:1px solid;border-radius:var(--cairn-radius,8px);padding:1em}' +
  'dialog{width:24em}' +
  'h2{margin:0}' +
  'form,div{display:grid;gap:.5em}' +
  'input,button,a{font:inherit;color:inherit;padding:.5em;border:1px solid;border-radius:var(--cairn-radius,8px);text-decoration:none}' +
  'a{text-align:center}' +
  '.x,.n{float:right;margin-left:.5em}' +
  '.x{border:0;background:none}' +
  // An ASCII escape for "×": the script may be served without a charset.
  '.x:before{content:"\\d7"}' +
  '.a{color:#fff;background:var(--cairn-accent,#0b57d0)}' +
  // The outcome, in words and colour (both over 4.5:1 on white); empty, it takes no room.
  '[role=alert]{color:var(--cairn-error,#b3261e)}' +
  '[role=status]{color:var(--cairn-success,#146c2e)}' +
  '[role]{font-weight:600}p:empty{margin:0}' +
  // Motion only for those who have not asked for less.
  '@media (prefers-reduced-motion:no-preference){.b{animation:f .2s}}@keyframes f{from{opacity:0}}';
