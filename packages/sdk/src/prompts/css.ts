// Adopted into the prompt's shadow root as a constructable stylesheet, so a strict CSP needs no
// nonce. Theming goes through custom properties, which inherit into the shadow tree.
export const CSS =
  ':host{all:initial;display:block}' +
  '.b{font:16px/1.5 var(--cairn-font,system-ui);color:var(--cairn-fg,#222);background:var(--cairn-bg,#fff);border:1px solid #8886;border-radius:var(--cairn-radius,8px);padding:1em}' +
  'dialog{width:24em}' +
  'h2,p{margin:0 0 .5em}' +
  '.x{float:right;font-size:1.5em;color:inherit;background:none;border:0}' +
  // An ASCII escape for "×": the script may be served without a charset.
  '.x:before{content:"\\d7"}' +
  'form,.p{display:grid;gap:.5em}' +
  'input,a,.a{font:inherit;padding:.5em;border:1px solid var(--cairn-accent,#0b57d0);border-radius:var(--cairn-radius,8px);color:inherit;text-align:center;text-decoration:none}' +
  'input{border-color:#767676;text-align:left}' +
  '.a{color:#fff;background:var(--cairn-accent,#0b57d0)}' +
  // Motion only for those who have not asked for less.
  '@media (prefers-reduced-motion:no-preference){.b{animation:f .2s}}' +
  '@keyframes f{from{opacity:0}}';
