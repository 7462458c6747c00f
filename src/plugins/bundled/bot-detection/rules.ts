/**
 * User-Agents treated as bots, after Kong's `bot-detection/rules.lua` (itself derived from
 * ua-parser's list): well-known crawlers by name, HTTP libraries Kong lists as downloaders,
 * and the generic spellings — a name ending in bot/spider/crawler/scraper/archiver/indexer
 * followed by a version, or containing spider/scrape/crawl/bot anywhere. Case-sensitive as in
 * Kong, so `curl/8.5.0`, `Wget/1.21` and `python-requests/2.31` are *not* bots (none of
 * Kong's rules matches them either), while `Python-urllib/3.11` is.
 */
export const BOT_RULES: readonly RegExp[] = [
  // Crawlers and link previewers by name.
  /(?:Googlebot|AdsBot-Google|Mediapartners-Google|Google-InspectionTool|bingbot|BingPreview|msnbot|Yahoo! Slurp|Slurp|DuckDuckBot|[Bb]ai[Dd]u[Ss]pider|Yandex[A-Z][A-Za-z]+|YodaoBot|Sogou|Exabot|facebookexternalhit|Twitterbot|LinkedInBot|Applebot|ia_archiver|archive\.org_bot|MJ12bot|AhrefsBot|SemrushBot|Pingdom\.com_bot|Scrapy|heritrix|Nutch|larbin|WhatWeb|Xenu Link Sleuth|Mail\.RU_Bot)/,
  // HTTP client libraries Kong's list calls downloaders.
  /(?:Google-HTTP-Java-Client|Apache-HttpClient|Python-urllib|HttpMonitor|TLSProber|WinHTTP|JNLP)/,
  // `name-bot/1.2`, `SomeCrawler 2.0`: a bot-like name followed by a version.
  /[A-Za-z0-9 _!:\-[\]]*(?:[Aa]rchiver|[Ii]ndexer|[Ss]craper|[Bb]ot|[Ss]pider|[Cc]rawl[a-z]*)[ /]v?\d+/,
  // Anything spelling spider, scrape, crawl, or bot (but not the Cubot phone brand).
  /[Ss][Pp][Ii][Dd][Ee][Rr]|[Ss]crape|[Cc][Rr][Aa][Ww][Ll]|(?<![Cc][Uu])[Bb]ot/,
];
