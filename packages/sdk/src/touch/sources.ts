// Source data for resolveTouch and channelOf, kept as compact strings because it ships in the
// script-tag bundle. Curated from GA4's source-category list (SOURCE_CATEGORY_SEARCH / SOCIAL /
// VIDEO / SHOPPING), Snowplow's referer-parser and Matomo's search-engine and social lists.

/** s search, o social, v video, p shopping, m webmail / mail app. */
export type Cat = 's' | 'o' | 'v' | 'p' | 'm';
/** A short source name, its category, and whether only the search hosts of that domain count. */
export type Entry = [name: string, cat: Cat, strict?: boolean];

// Groups are separated by '|' and start with their category. Entries, space-separated:
//   key        a host's main label (google: google.com, www.google.co.uk, …) or that bare source name
//   key*       the same, but only bare, www., m. and …search. hosts count (docs.google.com does not)
//   a.b        one exact host, app package or source value (t.co, com.google.android.gm)
//   ^key       one exact source value, never a label (ig must not claim ig.com)
//   key>name   resolves to the short name `name`; '+' stands for a space
const DATA =
  's google* yahoo* baidu* yandex* naver* seznam* daum* aol* rambler* onet* bing duckduckgo ecosia qwant startpage brave sogou ask msn kagi coccoc so.com ya.ru>yandex news.google.com>google lens.google.com>google images.google.com>google play.google.com>google com.google.android.googlequicksearchbox>google com.google.android.apps.searchlite>google' +
  '|o facebook fb>facebook ^ig>instagram instagram twitter x.com>twitter t.co>twitter linkedin lnkd.in>linkedin pinterest pin.it>pinterest reddit redd.it>reddit tiktok zhiliaoapp>tiktok snapchat quora tumblr whatsapp wa.me>whatsapp messenger wechat weibo line kakao vk vkontakte>vk ok.ru telegram t.me>telegram discord threads bsky>bluesky mastodon xing yelp tripadvisor flickr medium.com news.ycombinator.com blog.naver.com stackoverflow' +
  '|v youtube youtu.be>youtube com.google.android.youtube>youtube vimeo twitch dailymotion dai.ly>dailymotion netflix hulu ted wistia disneyplus iqiyi youku' +
  '|p amazon ebay etsy walmart alibaba mercadolibre shopify shop.app stripe ^igshopping ^google+shopping shopping.google.com>google+shopping' +
  '|m mail.google.com>gmail inbox.google.com>gmail com.google.android.gm>gmail outlook outlook.live.com>outlook outlook.office.com>outlook outlook.office365.com>outlook com.microsoft.office.outlook>outlook com.yahoo.mobile.client.android.mail>yahoo proton protonmail>proton gmx';

// Prototype-free, so a source like "constructor" or "__proto__" finds nothing.
/** Exact keys: hosts, app packages and source values. */
export const EXACT: Record<string, Entry> = Object.create(null);
/** Main labels of hosts (the part before the public suffix), which also match that bare source name. */
export const LABEL: Record<string, Entry> = Object.create(null);

for (const g of DATA.split('|')) {
  const cat = g[0] as Cat;
  for (const e of g.slice(2).split(' ')) {
    const [k0, n] = e.replace(/\+/g, ' ').split('>') as [string, string?];
    const strict = k0.endsWith('*');
    const k = k0.replace(/[*^]/g, '');
    (k0[0] == '^' || k.includes('.') ? EXACT : LABEL)[k] = [n || k, cat, strict];
  }
}

/** Ad click ids in priority order, as [param, source]. All are paid (cpc) except fbclid. */
export const CLICK_IDS = 'gclid:google gbraid:google wbraid:google dclid:google msclkid:bing ttclid:tiktok li_fat_id:linkedin twclid:twitter ScCid:snapchat epik:pinterest yclid:yandex fbclid:facebook'
  .split(' ')
  .map((e) => e.split(':') as [string, string]);
