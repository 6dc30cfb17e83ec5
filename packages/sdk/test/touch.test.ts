import { describe, expect, it } from 'vitest';
import { touchSchema } from '@cairn/schema';
import { channelOf, resolveTouch } from '../src/touch/index';

// One row per case: landing URL (a path is put on https://shop.example.com), referrer, and the
// expected "source | medium | channel", or null for internal navigation.
type Row = [url: string, referrer: string | undefined, expected: string | null];

const SHOP = 'https://shop.example.com';
const at = 1_700_000_000_000;

function run(url: string, referrer?: string, siteHosts?: string[]) {
  return resolveTouch({ url: url.startsWith('/') ? SHOP + url : url, referrer, siteHosts, now: at });
}

function check(rows: Row[]) {
  for (const [url, referrer, expected] of rows) {
    it(`${url} ← ${referrer ?? '(no referrer)'} → ${expected}`, () => {
      const t = run(url, referrer);
      if (expected === null) return expect(t).toBeNull();
      const [source, medium, channel] = expected.split(' | ');
      expect(t).not.toBeNull();
      expect({ source: t!.source, medium: t!.medium, channel: t!.channel }).toEqual({ source, medium, channel });
      // Every touch is valid on the wire.
      expect(touchSchema.safeParse(t).success).toBe(true);
      // The stored channel is GA4's channel of the stored source/medium/campaign, except for
      // webmail referrers, which GA4 itself does not recognise, and app referrers, whose package
      // names are no hosts to look up again (see resolveTouch).
      const app = referrer?.startsWith('android-app:');
      if (!(referrer && (t!.medium === 'email' || app) && !url.includes('utm_')))
        expect(channelOf(t!)).toBe(t!.channel);
    });
  }
}

describe('direct', () => {
  check([
    ['/', undefined, '(direct) | (none) | Direct'],
    ['/product/sku-1', undefined, '(direct) | (none) | Direct'],
    ['/?q=shoes&page=2', undefined, '(direct) | (none) | Direct'],
    ['/', '', '(direct) | (none) | Direct'],
    ['/', 'about:blank', '(direct) | (none) | Direct'],
    ['/', 'not a url', '(direct) | (none) | Direct'],
    ['/', 'javascript:alert(1)', '(direct) | (none) | Direct'],
    ['/', 'file:///etc/passwd', '(direct) | (none) | Direct'],
    ['/', 'chrome://newtab/', '(direct) | (none) | Direct'],
    ['/', 'http://', '(direct) | (none) | Direct'],
    // utm_term / utm_content alone do not name a campaign: not tagged.
    ['/?utm_term=shoes&utm_content=hero', undefined, '(direct) | (none) | Direct'],
  ]);
});

describe('search engine referrers', () => {
  check([
    ['/', 'https://www.google.com/', 'google | organic | Organic Search'],
    [
      '/',
      'https://www.google.com/search?q=trail+running+shoes&oq=trail&sourceid=chrome',
      'google | organic | Organic Search',
    ],
    ['/', 'https://www.google.com/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1', 'google | organic | Organic Search'],
    ['/', 'https://google.com/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.co.uk/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.com.au/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.co.jp/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.de/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.fr/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.com.br/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.co.in/', 'google | organic | Organic Search'],
    ['/', 'https://www.google.com.mx/', 'google | organic | Organic Search'],
    ['/', 'https://news.google.com/articles/CBMi', 'google | organic | Organic Search'],
    ['/', 'https://lens.google.com/', 'google | organic | Organic Search'],
    ['/', 'https://images.google.com/', 'google | organic | Organic Search'],
    [
      '/',
      'android-app://com.google.android.googlequicksearchbox/https/www.google.com',
      'google | organic | Organic Search',
    ],
    ['/', 'android-app://com.google.android.googlequicksearchbox', 'google | organic | Organic Search'],
    ['/', 'https://docs.google.com/document/d/1abc/edit', 'docs.google.com | referral | Referral'],
    ['/', 'https://drive.google.com/drive/u/0', 'drive.google.com | referral | Referral'],
    ['/', 'https://translate.google.com/', 'translate.google.com | referral | Referral'],
    ['/', 'https://accounts.google.com/', 'accounts.google.com | referral | Referral'],
    ['/', 'android-app://com.google.android.apps.maps', 'com.google.android.apps.maps | referral | Referral'],
    ['/', 'https://www.bing.com/search?q=wool+socks&form=QBLH', 'bing | organic | Organic Search'],
    ['/', 'https://cn.bing.com/search?q=x', 'bing | organic | Organic Search'],
    ['/', 'https://bing.com/', 'bing | organic | Organic Search'],
    ['/', 'https://duckduckgo.com/', 'duckduckgo | organic | Organic Search'],
    ['/', 'https://html.duckduckgo.com/html/', 'duckduckgo | organic | Organic Search'],
    ['/', 'https://search.yahoo.com/search?p=rain+jacket', 'yahoo | organic | Organic Search'],
    [
      '/',
      'https://r.search.yahoo.com/_ylt=AwrE1x;_ylu=Y29sbwNiZjEE/RV=2/RE=1700000000/RO=10/RU=https%3a%2f%2fshop.example.com%2f',
      'yahoo | organic | Organic Search',
    ],
    ['/', 'https://uk.search.yahoo.com/search?p=x', 'yahoo | organic | Organic Search'],
    ['/', 'https://search.yahoo.co.jp/search?p=x', 'yahoo | organic | Organic Search'],
    ['/', 'https://www.yahoo.com/', 'yahoo | organic | Organic Search'],
    ['/', 'https://news.yahoo.com/some-story', 'news.yahoo.com | referral | Referral'],
    ['/', 'https://yandex.ru/search/?text=x&lr=213', 'yandex | organic | Organic Search'],
    ['/', 'https://yandex.com/', 'yandex | organic | Organic Search'],
    ['/', 'https://yandex.com.tr/search/?text=x', 'yandex | organic | Organic Search'],
    ['/', 'https://ya.ru/', 'yandex | organic | Organic Search'],
    ['/', 'https://market.yandex.ru/product', 'market.yandex.ru | referral | Referral'],
    ['/', 'https://www.baidu.com/link?url=abc&wd=&eqid=f00', 'baidu | organic | Organic Search'],
    ['/', 'https://m.baidu.com/from=844b/s?word=x', 'baidu | organic | Organic Search'],
    ['/', 'https://baike.baidu.com/item/x', 'baike.baidu.com | referral | Referral'],
    ['/', 'https://www.ecosia.org/search?q=x&addon=chrome', 'ecosia | organic | Organic Search'],
    ['/', 'https://search.naver.com/search.naver?where=nexearch&query=x', 'naver | organic | Organic Search'],
    ['/', 'https://m.search.naver.com/search.naver?query=x', 'naver | organic | Organic Search'],
    ['/', 'https://search.seznam.cz/?q=x', 'seznam | organic | Organic Search'],
    ['/', 'https://www.seznam.cz/', 'seznam | organic | Organic Search'],
    ['/', 'https://search.daum.net/search?w=tot&q=x', 'daum | organic | Organic Search'],
    ['/', 'https://www.qwant.com/?q=x&t=web', 'qwant | organic | Organic Search'],
    // Not on GA4's search list: referrals in GA4, and so here.
    ['/', 'https://www.startpage.com/do/search', 'startpage.com | referral | Referral'],
    ['/', 'https://search.brave.com/search?q=x', 'search.brave.com | referral | Referral'],
    ['/', 'https://www.sogou.com/web?query=x', 'sogou | organic | Organic Search'],
    ['/', 'https://www.so.com/s?q=x', 'so.com | organic | Organic Search'],
    ['/', 'https://www.ask.com/web?q=x', 'ask | organic | Organic Search'],
    ['/', 'https://search.aol.com/aol/search?q=x', 'aol | organic | Organic Search'],
    ['/', 'https://www.msn.com/en-us/news', 'msn | organic | Organic Search'],
    ['/', 'https://kagi.com/search?q=x', 'kagi.com | referral | Referral'],
    // AI assistants are not on GA4's lists: plain referrals, as in GA4.
    ['/', 'https://chatgpt.com/', 'chatgpt.com | referral | Referral'],
    ['/', 'https://www.perplexity.ai/search/x', 'perplexity.ai | referral | Referral'],
    ['/', 'https://copilot.microsoft.com/', 'copilot.microsoft.com | referral | Referral'],
  ]);
});

describe('social network referrers', () => {
  check([
    ['/', 'https://www.facebook.com/', 'facebook | social | Organic Social'],
    ['/', 'https://facebook.com/groups/123/', 'facebook | social | Organic Social'],
    ['/', 'https://m.facebook.com/', 'facebook | social | Organic Social'],
    [
      '/',
      'https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example.com%2F&h=AT0',
      'facebook | social | Organic Social',
    ],
    ['/', 'https://lm.facebook.com/l.php?u=https%3A%2F%2Fshop.example.com%2F', 'facebook | social | Organic Social'],
    ['/', 'https://web.facebook.com/', 'facebook | social | Organic Social'],
    ['/', 'https://business.facebook.com/', 'facebook | social | Organic Social'],
    ['/', 'android-app://com.facebook.katana', 'facebook | social | Organic Social'],
    ['/', 'android-app://com.facebook.orca/', 'facebook | social | Organic Social'],
    ['/', 'https://www.messenger.com/', 'messenger | social | Organic Social'],
    ['/', 'https://www.instagram.com/', 'instagram | social | Organic Social'],
    ['/', 'https://l.instagram.com/?u=https%3A%2F%2Fshop.example.com%2F&e=AT1', 'instagram | social | Organic Social'],
    ['/', 'android-app://com.instagram.android', 'instagram | social | Organic Social'],
    ['/', 'https://t.co/AbCdEf1234', 'twitter | social | Organic Social'],
    ['/', 'https://twitter.com/', 'twitter | social | Organic Social'],
    ['/', 'https://mobile.twitter.com/', 'twitter | social | Organic Social'],
    ['/', 'https://x.com/someone/status/1', 'twitter | social | Organic Social'],
    ['/', 'android-app://com.twitter.android', 'twitter | social | Organic Social'],
    ['/', 'https://www.linkedin.com/feed/', 'linkedin | social | Organic Social'],
    ['/', 'https://uk.linkedin.com/', 'linkedin | social | Organic Social'],
    ['/', 'https://lnkd.in/eXyZ123', 'linkedin | social | Organic Social'],
    ['/', 'android-app://com.linkedin.android', 'linkedin | social | Organic Social'],
    ['/', 'https://www.pinterest.com/pin/1234567/', 'pinterest | social | Organic Social'],
    ['/', 'https://pinterest.com/', 'pinterest | social | Organic Social'],
    ['/', 'https://www.pinterest.co.uk/', 'pinterest | social | Organic Social'],
    ['/', 'https://www.pinterest.de/', 'pinterest | social | Organic Social'],
    ['/', 'https://www.pinterest.com.au/', 'pinterest | social | Organic Social'],
    ['/', 'https://nl.pinterest.com/', 'pinterest | social | Organic Social'],
    // pin.it, youtu.be, web.telegram.org, discord, threads, bsky, mastodon and ok.ru are not on GA4's
    // social or video lists: GA4 calls them Referral, and so do we (t.me is on the list).
    ['/', 'https://pin.it/3xAmPlE', 'pin.it | referral | Referral'],
    ['/', 'android-app://com.pinterest', 'pinterest | social | Organic Social'],
    ['/', 'https://www.reddit.com/r/BuyItForLife/comments/abc/', 'reddit | social | Organic Social'],
    ['/', 'https://old.reddit.com/', 'reddit | social | Organic Social'],
    ['/', 'https://out.reddit.com/t3_abc?url=x', 'reddit | social | Organic Social'],
    ['/', 'android-app://com.reddit.frontpage', 'reddit | social | Organic Social'],
    ['/', 'https://www.tiktok.com/@store/video/1', 'tiktok | social | Organic Social'],
    ['/', 'android-app://com.zhiliaoapp.musically', 'tiktok | social | Organic Social'],
    ['/', 'https://www.snapchat.com/', 'snapchat | social | Organic Social'],
    ['/', 'https://www.quora.com/What-is-x', 'quora | social | Organic Social'],
    ['/', 'https://someone.tumblr.com/post/1', 'tumblr | social | Organic Social'],
    ['/', 'https://web.whatsapp.com/', 'whatsapp | social | Organic Social'],
    ['/', 'android-app://com.whatsapp', 'whatsapp | social | Organic Social'],
    ['/', 'https://t.me/channel/12', 'telegram | social | Organic Social'],
    ['/', 'https://web.telegram.org/', 'web.telegram.org | referral | Referral'],
    ['/', 'android-app://org.telegram.messenger', 'org.telegram.messenger | referral | Referral'],
    ['/', 'https://discord.com/channels/1/2', 'discord.com | referral | Referral'],
    ['/', 'https://www.threads.net/@store', 'threads.net | referral | Referral'],
    ['/', 'https://bsky.app/profile/x', 'bsky.app | referral | Referral'],
    ['/', 'https://mastodon.social/@x', 'mastodon.social | referral | Referral'],
    ['/', 'https://vk.com/', 'vk | social | Organic Social'],
    ['/', 'https://away.vk.com/away.php?to=x', 'vk | social | Organic Social'],
    ['/', 'https://ok.ru/', 'ok.ru | referral | Referral'],
    ['/', 'https://weibo.com/', 'weibo | social | Organic Social'],
    ['/', 'https://line.me/R/', 'line | social | Organic Social'],
    ['/', 'https://news.ycombinator.com/item?id=1', 'news.ycombinator.com | social | Organic Social'],
    ['/', 'https://medium.com/@x/post', 'medium.com | social | Organic Social'],
    ['/', 'https://stackoverflow.com/questions/1', 'stackoverflow | social | Organic Social'],
    ['/', 'https://www.yelp.com/biz/x', 'yelp | social | Organic Social'],
    ['/', 'https://www.tripadvisor.com/', 'tripadvisor | social | Organic Social'],
    ['/', 'https://www.flickr.com/photos/x', 'flickr | social | Organic Social'],
    ['/', 'https://blog.naver.com/x', 'blog.naver.com | social | Organic Social'],
  ]);
});

describe('video, shopping and webmail referrers', () => {
  check([
    ['/', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'youtube | video | Organic Video'],
    ['/', 'https://m.youtube.com/', 'youtube | video | Organic Video'],
    ['/', 'https://youtu.be/dQw4w9WgXcQ', 'youtu.be | referral | Referral'],
    ['/', 'https://music.youtube.com/', 'youtube | video | Organic Video'],
    ['/', 'android-app://com.google.android.youtube', 'youtube | video | Organic Video'],
    ['/', 'https://vimeo.com/12345', 'vimeo | video | Organic Video'],
    ['/', 'https://player.vimeo.com/video/1', 'vimeo | video | Organic Video'],
    ['/', 'https://www.twitch.tv/streamer', 'twitch | video | Organic Video'],
    ['/', 'https://www.dailymotion.com/video/x', 'dailymotion | video | Organic Video'],
    ['/', 'https://www.amazon.com/dp/B000', 'amazon | referral | Organic Shopping'],
    ['/', 'https://www.amazon.co.uk/', 'amazon | referral | Organic Shopping'],
    ['/', 'https://www.ebay.com/itm/1', 'ebay | referral | Organic Shopping'],
    ['/', 'https://www.ebay.de/', 'ebay | referral | Organic Shopping'],
    ['/', 'https://www.etsy.com/listing/1', 'etsy | referral | Organic Shopping'],
    ['/', 'https://www.walmart.com/', 'walmart | referral | Organic Shopping'],
    ['/', 'https://checkout.stripe.com/c/pay/cs_1', 'stripe | referral | Organic Shopping'],
    ['/', 'https://shop.app/', 'shop.app | referral | Organic Shopping'],
    ['/', 'https://mail.google.com/', 'gmail | email | Email'],
    ['/', 'https://mail.google.com/mail/u/0/', 'gmail | email | Email'],
    ['/', 'android-app://com.google.android.gm', 'gmail | email | Email'],
    ['/', 'android-app://com.google.android.gm/', 'gmail | email | Email'],
    ['/', 'https://outlook.live.com/', 'outlook | email | Email'],
    ['/', 'https://outlook.office.com/mail/', 'outlook | email | Email'],
    ['/', 'https://outlook.office365.com/owa/', 'outlook | email | Email'],
    ['/', 'android-app://com.microsoft.office.outlook', 'outlook | email | Email'],
    ['/', 'https://mail.yahoo.com/', 'yahoo | email | Email'],
    ['/', 'https://us-mg5.mail.yahoo.com/neo/launch', 'yahoo | email | Email'],
    ['/', 'https://mail.aol.com/webmail-std/en-us/suite', 'aol | email | Email'],
    ['/', 'https://mail.yandex.ru/', 'yandex | email | Email'],
    ['/', 'https://email.seznam.cz/', 'seznam | email | Email'],
    ['/', 'https://mail.proton.me/u/0/inbox', 'proton | email | Email'],
    ['/', 'https://webmail.hosting-provider.net/', 'webmail.hosting-provider.net | email | Email'],
  ]);
});

describe('other referrers', () => {
  check([
    ['/', 'https://www.nytimes.com/2024/01/01/style/gifts.html', 'nytimes.com | referral | Referral'],
    ['/', 'https://blog.example.org/post/1', 'blog.example.org | referral | Referral'],
    ['/', 'https://m.example.net/', 'm.example.net | referral | Referral'],
    ['/', 'https://WWW.Example.NET/Path', 'example.net | referral | Referral'],
    ['/', 'https://www.bbc.co.uk/news', 'bbc.co.uk | referral | Referral'],
    ['/', 'http://192.168.0.1/', '192.168.0.1 | referral | Referral'],
    ['/', 'https://example.net:8443/x', 'example.net | referral | Referral'],
    ['/', 'android-app://com.slack', 'com.slack | referral | Referral'],
    // An unknown app is a referral, although its package name, read as a host, ends in a known one.
    ['/', 'android-app://com.example.pinterest.viewer', 'com.example.pinterest.viewer | referral | Referral'],
    ['/', 'android-app://org.example.youtube.music', 'org.example.youtube.music | referral | Referral'],
    ['/', 'https://www.googleadservices.com/pagead/aclk', 'googleadservices.com | referral | Referral'],
    ['/', 'https://constructor.io/', 'constructor.io | referral | Referral'],
    ['/', 'https://__proto__.example.org/', '__proto__.example.org | referral | Referral'],
    ['/?utm_source=constructor&utm_medium=toString', undefined, 'constructor | tostring | Unassigned'],
    ['/?utm_source=__proto__&utm_medium=hasOwnProperty', undefined, '__proto__ | hasownproperty | Unassigned'],
    ['https://a.myshopify.com/', 'https://b.myshopify.com/', 'b.myshopify.com | referral | Referral'],
  ]);
});

describe('internal navigation', () => {
  check([
    ['/cart', 'https://shop.example.com/product/1', null],
    ['/cart', 'https://www.example.com/', null],
    ['/cart', 'https://example.com/', null],
    ['/cart', 'https://blog.example.com/post', null],
    ['/cart', 'http://shop.example.com/', null],
    ['https://www.shop.co.uk/basket', 'https://checkout.shop.co.uk/', null],
    ['https://shop.co.uk/basket', 'https://www.shop.co.uk/', null],
    ['https://www.store.com.au/', 'https://blog.store.com.au/', null],
    ['https://www.store.co.jp/', 'https://store.co.jp/', null],
    ['https://a.myshopify.com/', 'https://a.myshopify.com/products/x', null],
    ['https://www.shop.co.uk/', 'https://www.other.co.uk/', 'other.co.uk | referral | Referral'],
    ['https://www.shop.co.uk/', 'https://shop.co.uk.evil.com/', 'shop.co.uk.evil.com | referral | Referral'],
    ['/', 'https://notexample.com/', 'notexample.com | referral | Referral'],
    // UTMs and click ids make internal links a touch (e.g. a tagged link in the site's own banner).
    [
      '/?utm_source=homepage&utm_medium=banner&utm_campaign=sale',
      'https://shop.example.com/',
      'homepage | banner | Display',
    ],
    ['/?gclid=abc', 'https://shop.example.com/', 'google | cpc | Paid Search'],
    ['/?fbclid=abc', 'https://shop.example.com/', 'facebook | social | Organic Social'],
  ]);

  it('uses siteHosts instead of the registrable domain when given, plus the page host', () => {
    const url = 'https://shop.example.com/';
    expect(
      resolveTouch({ url, referrer: 'https://pay.example-cdn.net/x', siteHosts: ['example.com', 'example-cdn.net'] }),
    ).toBeNull();
    expect(resolveTouch({ url, referrer: 'https://www.example.com/', siteHosts: ['WWW.Example.com'] })).toBeNull();
    expect(resolveTouch({ url, referrer: 'https://shop.example.com/a', siteHosts: ['other.com'] })).toBeNull();
    expect(resolveTouch({ url, referrer: 'https://blog.example.com/', siteHosts: ['shop.example.com'] })?.source).toBe(
      'blog.example.com',
    );
    // Junk entries are ignored; with none left the default applies.
    expect(
      resolveTouch({ url, referrer: 'https://blog.example.com/', siteHosts: [null, 5, ''] as unknown as string[] }),
    ).toBeNull();
  });
});

describe('UTM parameters', () => {
  check([
    ['/?utm_source=google&utm_medium=cpc&utm_campaign=brand', undefined, 'google | cpc | Paid Search'],
    ['/?utm_source=Google&utm_medium=CPC', undefined, 'google | cpc | Paid Search'],
    ['/?utm_source=%20google%20&utm_medium=%20ppc%20', undefined, 'google | ppc | Paid Search'],
    ['/?utm_source=google&utm_medium=paidsearch', undefined, 'google | paidsearch | Paid Search'],
    ['/?utm_source=google&utm_medium=paid_search', undefined, 'google | paid_search | Paid Search'],
    ['/?utm_source=www.google.com&utm_medium=cpc', undefined, 'google | cpc | Paid Search'],
    ['/?utm_source=bing&utm_medium=cpc', undefined, 'bing | cpc | Paid Search'],
    ['/?utm_source=yahoo&utm_medium=cpc', undefined, 'yahoo | cpc | Paid Search'],
    ['/?utm_source=duckduckgo&utm_medium=cpc', undefined, 'duckduckgo | cpc | Paid Search'],
    ['/?utm_source=baidu&utm_medium=cpc', undefined, 'baidu | cpc | Paid Search'],
    ['/?utm_source=yandex&utm_medium=cpc', undefined, 'yandex | cpc | Paid Search'],
    ['/?utm_source=naver&utm_medium=cpc', undefined, 'naver | cpc | Paid Search'],
    ['/?utm_source=google&utm_medium=retargeting', undefined, 'google | retargeting | Paid Search'],
    ['/?utm_source=google&utm_medium=cpm', undefined, 'google | cpm | Paid Search'],
    ['/?utm_source=facebook&utm_medium=cpc', undefined, 'facebook | cpc | Paid Social'],
    ['/?utm_source=fb&utm_medium=paid_social', undefined, 'facebook | paid_social | Paid Social'],
    ['/?utm_source=FB&utm_medium=paid', undefined, 'facebook | paid | Paid Social'],
    ['/?utm_source=facebook.com&utm_medium=cpc', undefined, 'facebook | cpc | Paid Social'],
    ['/?utm_source=m.facebook.com&utm_medium=social', undefined, 'facebook | social | Organic Social'],
    ['/?utm_source=l.facebook.com&utm_medium=referral', undefined, 'facebook | referral | Organic Social'],
    ['/?utm_source=lm.facebook.com&utm_medium=cpc', undefined, 'facebook | cpc | Paid Social'],
    ['/?utm_source=ig&utm_medium=cpc', undefined, 'instagram | cpc | Paid Social'],
    ['/?utm_source=Instagram&utm_medium=Paid%20Social', undefined, 'instagram | paid social | Paid Social'],
    ['/?utm_source=linkedin&utm_medium=paid', undefined, 'linkedin | paid | Paid Social'],
    ['/?utm_source=lnkd.in&utm_medium=social', undefined, 'linkedin | social | Organic Social'],
    ['/?utm_source=twitter&utm_medium=cpc', undefined, 'twitter | cpc | Paid Social'],
    ['/?utm_source=x.com&utm_medium=cpc', undefined, 'twitter | cpc | Paid Social'],
    ['/?utm_source=t.co&utm_medium=social', undefined, 'twitter | social | Organic Social'],
    ['/?utm_source=pinterest&utm_medium=cpm', undefined, 'pinterest | cpm | Paid Social'],
    ['/?utm_source=pinterest.co.uk&utm_medium=social', undefined, 'pinterest | social | Organic Social'],
    ['/?utm_source=reddit&utm_medium=cpc', undefined, 'reddit | cpc | Paid Social'],
    ['/?utm_source=tiktok&utm_medium=paid', undefined, 'tiktok | paid | Paid Social'],
    ['/?utm_source=snapchat&utm_medium=cpc', undefined, 'snapchat | cpc | Paid Social'],
    ['/?utm_source=quora&utm_medium=cpc', undefined, 'quora | cpc | Paid Social'],
    ['/?utm_source=facebook&utm_medium=retargeting', undefined, 'facebook | retargeting | Paid Social'],
    ['/?utm_source=youtube&utm_medium=cpc', undefined, 'youtube | cpc | Paid Video'],
    ['/?utm_source=youtube&utm_medium=cpv', undefined, 'youtube | cpv | Paid Video'],
    ['/?utm_source=youtu.be&utm_medium=paid', undefined, 'youtu.be | paid | Paid Other'],
    ['/?utm_source=vimeo&utm_medium=paid_video', undefined, 'vimeo | paid_video | Paid Video'],
    ['/?utm_source=twitch&utm_medium=cpc', undefined, 'twitch | cpc | Paid Video'],
    ['/?utm_source=amazon&utm_medium=cpc', undefined, 'amazon | cpc | Paid Shopping'],
    ['/?utm_source=ebay&utm_medium=ppc', undefined, 'ebay | ppc | Paid Shopping'],
    ['/?utm_source=google&utm_medium=cpc&utm_campaign=Shopping_Summer', undefined, 'google | cpc | Paid Shopping'],
    ['/?utm_source=google&utm_medium=cpc&utm_campaign=brand-shop-uk', undefined, 'google | cpc | Paid Shopping'],
    ['/?utm_source=google&utm_medium=cpc&utm_campaign=eshop', undefined, 'google | cpc | Paid Shopping'],
    ['/?utm_source=google&utm_medium=cpc&utm_campaign=workshop_2024', undefined, 'google | cpc | Paid Search'],
    ['/?utm_source=google&utm_medium=cpc&utm_campaign=Bishop', undefined, 'google | cpc | Paid Search'],
    ['/?utm_source=criteo&utm_medium=retargeting', undefined, 'criteo | retargeting | Paid Other'],
    ['/?utm_source=taboola&utm_medium=cpc', undefined, 'taboola | cpc | Paid Other'],
    ['/?utm_source=outbrain&utm_medium=paid', undefined, 'outbrain | paid | Paid Other'],
    ['/?utm_source=partner&utm_medium=cpa', undefined, 'partner | cpa | Paid Other'],
    ['/?utm_source=facebook%20ads&utm_medium=cpc', undefined, 'facebook ads | cpc | Paid Other'],
    ['/?utm_source=gdn&utm_medium=display', undefined, 'gdn | display | Display'],
    ['/?utm_source=dv360&utm_medium=banner', undefined, 'dv360 | banner | Display'],
    ['/?utm_source=network&utm_medium=expandable', undefined, 'network | expandable | Display'],
    ['/?utm_source=network&utm_medium=interstitial', undefined, 'network | interstitial | Display'],
    ['/?utm_source=network&utm_medium=cpm', undefined, 'network | cpm | Display'],
    ['/?utm_source=network&utm_medium=Display', undefined, 'network | display | Display'],
    ['/?utm_source=google&utm_medium=cpc&utm_campaign=pmax_cross-network', undefined, 'google | cpc | Cross-network'],
    [
      '/?utm_source=newsletter&utm_medium=email&utm_campaign=Cross-Network%20Q4',
      undefined,
      'newsletter | email | Cross-network',
    ],
    ['/?utm_source=amazon&utm_medium=referral', undefined, 'amazon | referral | Organic Shopping'],
    ['/?utm_source=IGShopping&utm_medium=social', undefined, 'igshopping | social | Organic Shopping'],
    ['/?utm_source=Google%20Shopping&utm_medium=organic', undefined, 'google shopping | organic | Organic Shopping'],
    ['/?utm_source=etsy&utm_medium=listing', undefined, 'etsy | listing | Organic Shopping'],
    [
      '/?utm_source=newsletter&utm_medium=email&utm_campaign=shopping_week',
      undefined,
      'newsletter | email | Organic Shopping',
    ],
    ['/?utm_source=facebook&utm_medium=social', undefined, 'facebook | social | Organic Social'],
    ['/?utm_source=facebook&utm_medium=post', undefined, 'facebook | post | Organic Social'],
    ['/?utm_source=pinterest&utm_medium=social', undefined, 'pinterest | social | Organic Social'],
    ['/?utm_source=blog&utm_medium=social-network', undefined, 'blog | social-network | Organic Social'],
    ['/?utm_source=blog&utm_medium=social-media', undefined, 'blog | social-media | Organic Social'],
    ['/?utm_source=blog&utm_medium=social%20media', undefined, 'blog | social media | Organic Social'],
    ['/?utm_source=blog&utm_medium=social+network', undefined, 'blog | social network | Organic Social'],
    ['/?utm_source=blog&utm_medium=sm', undefined, 'blog | sm | Organic Social'],
    ['/?utm_source=blog&utm_medium=social_media', undefined, 'blog | social_media | Unassigned'],
    ['/?utm_source=facebook&utm_medium=email', undefined, 'facebook | email | Organic Social'],
    ['/?utm_source=youtube&utm_medium=description', undefined, 'youtube | description | Organic Video'],
    ['/?utm_source=partner&utm_medium=video', undefined, 'partner | video | Organic Video'],
    ['/?utm_source=partner&utm_medium=video_ad', undefined, 'partner | video_ad | Organic Video'],
    ['/?utm_source=google&utm_medium=organic', undefined, 'google | organic | Organic Search'],
    ['/?utm_source=anything&utm_medium=organic', undefined, 'anything | organic | Organic Search'],
    ['/?utm_source=bing&utm_medium=referral', undefined, 'bing | referral | Organic Search'],
    ['/?utm_source=partner&utm_medium=referral', undefined, 'partner | referral | Referral'],
    ['/?utm_source=partner&utm_medium=app', undefined, 'partner | app | Referral'],
    ['/?utm_source=partner&utm_medium=link', undefined, 'partner | link | Referral'],
    ['/?utm_source=newsletter&utm_medium=email&utm_campaign=spring', undefined, 'newsletter | email | Email'],
    ['/?utm_source=klaviyo&utm_medium=email', undefined, 'klaviyo | email | Email'],
    ['/?utm_source=mailchimp&utm_medium=e-mail', undefined, 'mailchimp | e-mail | Email'],
    ['/?utm_source=crm&utm_medium=e_mail', undefined, 'crm | e_mail | Email'],
    ['/?utm_source=crm&utm_medium=e%20mail', undefined, 'crm | e mail | Email'],
    ['/?utm_source=Email&utm_medium=newsletter', undefined, 'email | newsletter | Email'],
    ['/?utm_source=crm&utm_medium=emails', undefined, 'crm | emails | Unassigned'],
    ['/?utm_source=yahoo&utm_medium=email', undefined, 'yahoo | email | Organic Search'],
    ['/?utm_source=awin&utm_medium=affiliate', undefined, 'awin | affiliate | Affiliates'],
    ['/?utm_source=cj&utm_medium=Affiliate', undefined, 'cj | affiliate | Affiliates'],
    ['/?utm_source=cj&utm_medium=affiliates', undefined, 'cj | affiliates | Unassigned'],
    ['/?utm_source=spotify&utm_medium=audio', undefined, 'spotify | audio | Audio'],
    ['/?utm_source=podcast&utm_medium=audio', undefined, 'podcast | audio | Audio'],
    ['/?utm_source=attentive&utm_medium=sms', undefined, 'attentive | sms | SMS'],
    ['/?utm_source=sms&utm_medium=text', undefined, 'sms | text | SMS'],
    ['/?utm_source=postscript&utm_medium=SMS', undefined, 'postscript | sms | SMS'],
    ['/?utm_source=onesignal&utm_medium=push', undefined, 'onesignal | push | Mobile Push Notifications'],
    ['/?utm_source=onesignal&utm_medium=web-push', undefined, 'onesignal | web-push | Mobile Push Notifications'],
    ['/?utm_source=app&utm_medium=mobile', undefined, 'app | mobile | Mobile Push Notifications'],
    [
      '/?utm_source=app&utm_medium=in-app-notification',
      undefined,
      'app | in-app-notification | Mobile Push Notifications',
    ],
    ['/?utm_source=firebase&utm_medium=inapp', undefined, 'firebase | inapp | Mobile Push Notifications'],
    ['/?utm_source=app&utm_medium=pushy', undefined, 'app | pushy | Unassigned'],
    ['/?utm_source=partner&utm_medium=foo', undefined, 'partner | foo | Unassigned'],
    ['/?utm_source=newsletter', undefined, 'newsletter | (not set) | Unassigned'],
    ['/?utm_source=pinterest', undefined, 'pinterest | (not set) | Organic Social'],
    ['/?utm_source=google', undefined, 'google | (not set) | Organic Search'],
    ['/?utm_medium=email', undefined, '(not set) | email | Email'],
    ['/?utm_medium=cpc', undefined, '(not set) | cpc | Paid Other'],
    ['/?utm_campaign=spring', undefined, '(not set) | (not set) | Unassigned'],
    ['/?utm_campaign=spring_shop', undefined, '(not set) | (not set) | Organic Shopping'],
    ['/?utm_id=abc123', undefined, '(not set) | (not set) | Unassigned'],
    ['/?utm_source=&utm_medium=', undefined, '(direct) | (none) | Direct'],
    ['/?utm_source=%20%20&utm_medium=%20', undefined, '(direct) | (none) | Direct'],
    // UTMs win over the referrer.
    ['/?utm_source=newsletter&utm_medium=email', 'https://mail.google.com/', 'newsletter | email | Email'],
    ['/?utm_source=facebook&utm_medium=cpc', 'https://l.facebook.com/l.php?u=x', 'facebook | cpc | Paid Social'],
    ['/?utm_source=partner&utm_medium=affiliate', 'https://www.google.com/', 'partner | affiliate | Affiliates'],
    ['/?utm_medium=social', 'https://www.facebook.com/', '(not set) | social | Organic Social'],
  ]);

  it('keeps campaign, term, content and id trimmed with their case, and the referrer host', () => {
    const t = run(
      '/landing?utm_source=Newsletter&utm_medium=Email&utm_campaign=%20Spring%20Sale%20&utm_term=Red+Shoes&utm_content=Hero_A&utm_id=CMP-42',
      'https://Mail.Google.com/mail/u/0/',
    );
    expect(t).toEqual({
      source: 'newsletter',
      medium: 'email',
      campaign: 'Spring Sale',
      term: 'Red Shoes',
      content: 'Hero_A',
      id: 'CMP-42',
      channel: 'Email',
      referrerHost: 'mail.google.com',
      landingPath: '/landing',
      at,
    });
  });

  it('takes the first value of a repeated parameter', () => {
    expect(run('/?utm_source=a&utm_source=b&utm_medium=email')?.source).toBe('a');
  });
});

describe('ad click ids', () => {
  check([
    ['/?gclid=EAIaIQobChMI', undefined, 'google | cpc | Paid Search'],
    ['/?gbraid=0AAAAA', undefined, 'google | cpc | Paid Search'],
    ['/?wbraid=CkUK', undefined, 'google | cpc | Paid Search'],
    ['/?dclid=CJ7', undefined, 'google | cpc | Paid Search'],
    ['/?msclkid=3f9c', undefined, 'bing | cpc | Paid Search'],
    ['/?ttclid=E.C.P', undefined, 'tiktok | cpc | Paid Social'],
    ['/?li_fat_id=4d1e', undefined, 'linkedin | cpc | Paid Social'],
    ['/?twclid=2-abc', undefined, 'twitter | cpc | Paid Social'],
    ['/?ScCid=7b0a', undefined, 'snapchat | cpc | Paid Social'],
    ['/?epik=dj0yJnU9', undefined, 'pinterest | cpc | Paid Social'],
    ['/?yclid=123456', undefined, 'yandex | cpc | Paid Search'],
    ['/?gclid=abc', 'https://www.google.com/', 'google | cpc | Paid Search'],
    ['/?msclkid=abc', 'https://www.bing.com/', 'bing | cpc | Paid Search'],
    ['/?gclid=abc&fbclid=def', undefined, 'google | cpc | Paid Search'],
    ['/?fbclid=IwAR0abc', undefined, 'facebook | social | Organic Social'],
    ['/?fbclid=IwAR0abc', 'https://l.facebook.com/', 'facebook | social | Organic Social'],
    ['/?fbclid=IwAR0abc', 'https://l.instagram.com/', 'instagram | social | Organic Social'],
    ['/?fbclid=IwAR0abc', 'https://www.google.com/', 'google | organic | Organic Search'],
    ['/?gclid=', undefined, '(direct) | (none) | Direct'],
    ['/?gclid=abc&utm_source=newsletter&utm_medium=email', undefined, 'newsletter | email | Email'],
    ['/?gclid=abc&utm_campaign=spring', undefined, 'google | cpc | Paid Search'],
    ['/?gclid=abc&utm_campaign=spring_shopping', undefined, 'google | cpc | Paid Shopping'],
    ['/?fbclid=abc&utm_campaign=spring', undefined, 'facebook | social | Organic Social'],
    ['/?msclkid=abc&utm_source=bing', undefined, 'bing | (not set) | Organic Search'],
  ]);

  it('records the click id even when UTMs win', () => {
    const t = run('/?utm_source=newsletter&utm_medium=email&gclid=EAIa-123');
    expect(t?.clickId).toEqual({ param: 'gclid', value: 'EAIa-123' });
    expect(run('/?fbclid=IwAR', 'https://www.instagram.com/')?.clickId).toEqual({ param: 'fbclid', value: 'IwAR' });
    expect(run('/?ScCid=abc')?.clickId).toEqual({ param: 'ScCid', value: 'abc' });
    expect(run('/')?.clickId).toBeUndefined();
  });
});

describe('fields', () => {
  it('builds a full touch from a referrer', () => {
    expect(run('/category/shoes?sort=price#top', 'https://www.google.co.uk/')).toEqual({
      source: 'google',
      medium: 'organic',
      channel: 'Organic Search',
      referrerHost: 'www.google.co.uk',
      landingPath: '/category/shoes',
      at,
    });
  });

  it('builds a direct touch without optional fields', () => {
    expect(run('/')).toEqual({ source: '(direct)', medium: '(none)', channel: 'Direct', landingPath: '/', at });
  });

  it('keeps the package name as the referrer host of app referrers', () => {
    expect(run('/', 'android-app://com.google.android.gm/')?.referrerHost).toBe('com.google.android.gm');
  });

  it('defaults at to now, and ignores an invalid now', () => {
    const before = Date.now();
    const t = resolveTouch({ url: SHOP + '/' })!;
    expect(t.at).toBeGreaterThanOrEqual(before);
    expect(Number.isInteger(resolveTouch({ url: SHOP, now: NaN })!.at)).toBe(true);
    expect(resolveTouch({ url: SHOP, now: -5 })!.at).toBeGreaterThanOrEqual(before);
    expect(resolveTouch({ url: SHOP, now: 0 })!.at).toBe(0);
    expect(resolveTouch({ url: SHOP, now: 12.7 })!.at).toBe(12);
  });
});

describe('junk input never throws', () => {
  const big = 'x'.repeat(100_000);
  const cases: [string, unknown][] = [
    ['100 KB url', { url: SHOP + '/?utm_source=' + big }],
    ['100 KB referrer', { url: SHOP, referrer: 'https://' + big + '.com/' }],
    ['100 KB referrer path', { url: SHOP, referrer: 'https://www.google.com/' + big }],
    ['bad percent-encoding', { url: SHOP + '/?utm_source=%E0%A4%A&utm_medium=%ZZ&utm_campaign=%' }],
    ['bad percent-encoding in path', { url: SHOP + '/%E0%A4%A/x' }],
    ['empty url', { url: '' }],
    ['relative url', { url: '/p?utm_source=x' }],
    ['garbage url', { url: '::::' }],
    ['unparseable url', { url: 'http://' }],
    ['null fields', { url: null, referrer: null, siteHosts: null, now: null }],
    ['numbers', { url: 42, referrer: 42, siteHosts: 42, now: '1' }],
    ['missing input', undefined],
    ['null input', null],
  ];
  for (const [name, input] of cases) {
    it(name, () => {
      let t: ReturnType<typeof resolveTouch> = null;
      expect(() => (t = resolveTouch(input as never))).not.toThrow();
      if (t) expect(touchSchema.safeParse(t).success).toBe(true);
    });
  }

  it('caps long fields', () => {
    const t = run(
      '/?utm_source=' +
        'a'.repeat(1000) +
        '&utm_medium=email&utm_campaign=' +
        'C'.repeat(500) +
        '&gclid=' +
        'g'.repeat(900),
    )!;
    expect(t.source).toHaveLength(200);
    expect(t.campaign).toHaveLength(200);
    expect(t.clickId!.value).toHaveLength(500);
    expect(touchSchema.safeParse(t).success).toBe(true);
  });

  it('reads a 100 KB url only as far as its first 4 KB', () => {
    const t = run('/?x=' + 'y'.repeat(5000) + '&utm_source=late&utm_medium=email');
    expect(t?.source).toBe('(direct)');
  });

  it('keeps odd percent-encoding as text, and drops control characters', () => {
    const t = run('/?utm_source=%E0%A4%A&utm_medium=email&utm_campaign=a%00b%0Ac');
    expect(t?.source).toBeTruthy();
    expect(t?.campaign).toBe('abc');
  });

  it('keeps markup in parameters as plain text', () => {
    const t = run('/?utm_source=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&utm_medium=email');
    expect(t?.source).toBe('<img src=x onerror=alert(1)>');
  });

  it('gives a sensible result for a relative or unparseable url', () => {
    expect(resolveTouch({ url: '/p?utm_source=x&utm_medium=email', now: at })).toMatchObject({
      source: 'x',
      landingPath: '/p',
    });
    expect(resolveTouch({ url: 'http://', referrer: 'https://www.bing.com/', now: at })).toMatchObject({
      source: 'bing',
      landingPath: '/',
    });
  });
});

it('a direct visit (no referrer) resolves without an exception thrown inside', () => {
  const thrown: unknown[] = [];
  const Real = URL;
  // A URL that records what its constructor throws, as a debugger pausing on caught exceptions would.
  class Counting extends Real {
    constructor(url: string | URL, base?: string | URL) {
      try {
        super(url, base);
      } catch (e) {
        thrown.push(e);
        throw e;
      }
    }
  }
  globalThis.URL = Counting as typeof URL;
  try {
    expect(resolveTouch({ url: 'https://shop.test/', referrer: '' })).toMatchObject({
      source: '(direct)',
      medium: '(none)',
    });
  } finally {
    globalThis.URL = Real;
  }
  expect(thrown).toEqual([]);
});
