// Source data for resolveTouch and channelOf, kept as one compact string because it ships in the
// script-tag bundle. Every search, social, video and shopping entry is a source on GA4's
// source-category list (SOURCE_CATEGORY_SEARCH / SOCIAL / VIDEO / SHOPPING), or another host or
// app of one (x.com for twitter, app package names), so our channels match the numbers marketers
// see in GA4: a site GA4 does not list (discord.com, search.brave.com, youtu.be) is a
// Referral there, and so here. It is a curated subset: the sites that still send traffic, not
// GA4's long tail of defunct networks. Webmail ('m') is ours: webmail referrers get medium email.

/** s search, o social, v video, p shopping, m webmail / mail app. */
export type Cat = 's' | 'o' | 'v' | 'p' | 'm';
/** A short source name, its category, and whether only the search hosts of that domain count. */
export type Entry = [name: string, cat: Cat, strict?: boolean];

// Comma-separated. A one-letter entry starts a category (S: search, where only the bare, www.,
// m. and …search. hosts of a label count: not docs.google.com); the others are:
//   key        a host's main label (google: google.com, www.google.co.uk, …) or that bare source name
//   a.b        one exact host, app package or source value (t.co, com.google.android.gm), named like
//              the entry before it (x.com, after twitter, is twitter)
//   ^key       one exact source value, never a label (ig must not claim ig.com), named the same way
//   key>name   resolves to the short name `name`; `a.b>` keeps its own name
const DATA =
  'S,google,news.google.com,lens.google.com,images.google.com,play.google.com,com.google.android.googlequicksearchbox,com.google.android.apps.searchlite,yahoo,baidu,yandex,zen.yandex.ru,ya.ru,naver,seznam,daum,aol,rambler,onet,search.smt.docomo.ne.jp>,go.mail.ru>' +
  ',s,bing,googlemybusiness,^rakuten>,rakuten.co.jp,duckduckgo,ecosia,qwant,sogou,ask,msn,so.com>,dogpile,excite,lycos,centrum,ukr,virgilio' +
  ',o,facebook,fb>facebook,fb.me,instagram,^ig,twitter,x.com,t.co,linkedin,lnkd.in,pinterest,reddit,tiktok,zhiliaoapp>tiktok,com.ss.android.ugc.trill,snapchat,quora,tumblr,whatsapp,messenger,wechat,com.tencent.mm,weibo,line,jp.naver.line.android,kakao,vk,vkontakte>vk,t.me>telegram,xing,yelp,tripadvisor,flickr,medium.com>,news.ycombinator.com>,blog.naver.com>,m.blog.naver.com,cafe.naver.com>,stackoverflow,houzz,buzzfeed,flipboard,getpocket,bit.ly>,tinyurl,goo.gl>,deviantart,disqus,digg,goodreads,meetup,myspace,slideshare,scribd,douban,qzone.qq.com>,mixi,pixiv,wattpad,wikihow,sites.google.com>,groups.google.com>,messages.google.com>,smartnews,glassdoor,ameblo,zalo,allrecipes,ravelry' +
  ',v,youtube,com.google.android.youtube,com.google.android.apps.youtube.music,vimeo,twitch,dailymotion,netflix,hulu,ted,wistia,disneyplus,iqiyi,youku,crackle,curiositystream' +
  ',p,amazon,ebay,etsy,walmart,alibaba,mercadolibre,^shopify>,shopify.com,apps.shopify.com,checkout.shopify.com,partners.shopify.com,shop.app>,stripe,^igshopping>,^google shopping>,shopping.google.com,simplycodes,amazon-adsystem,shopzilla,shopping.naver.com>,cr.shopping.naver.com,shopping.yahoo.co.jp>' +
  ',m,mail.google.com>gmail,com.google.android.gm,outlook,outlook.live.com,outlook.office.com,outlook.office365.com,com.microsoft.office.outlook,com.yahoo.mobile.client.android.mail>yahoo,proton,protonmail>proton,gmx,com.samsung.android.email.provider>samsung';

// Prototype-free, so a source like "constructor" or "__proto__" finds nothing.
/** Exact keys: hosts, app packages and source values. */
export const EXACT: Record<string, Entry> = Object.create(null);
/** Main labels of hosts (the part before the public suffix), which also match that bare source name. */
export const LABEL: Record<string, Entry> = Object.create(null);

/**
 * Fills EXACT and LABEL, once, at the first lookup: the pages after a landing make none, and the
 * head runs before first paint.
 */
export function fill(): void {
  let cat: string;
  let name: string;
  if (!LABEL.google)
    for (const e of DATA.split(',')) {
      const [k0, n] = e.split('>') as [string, string?];
      const k = k0.replace('^', '');
      const x = k != k0 || k.includes('.');
      if (!k[1]) cat = k;
      else (x ? EXACT : LABEL)[k] = [(name = n || ((n ?? x) ? name! : k)), cat!.toLowerCase() as Cat, cat! == 'S'];
    }
}

/** Ad click ids in priority order, as [param, source, medium]. All are paid (cpc) except fbclid. */
export const CLICK_IDS =
  'gclid:google gbraid:google wbraid:google dclid:google msclkid:bing ttclid:tiktok li_fat_id:linkedin twclid:twitter ScCid:snapchat epik:pinterest yclid:yandex fbclid:facebook:social'
    .split(' ')
    .map((e) => [...e.split(':'), 'cpc'] as [string, string, string]);
