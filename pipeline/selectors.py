"""Hints kept as data: the tag sets and class/id patterns that the cleaner and metadata read."""

from __future__ import annotations

import re

# Never part of a story's text; dropped before scoring.
JUNK_TAGS = frozenset(
    "script style noscript template iframe object embed applet svg math canvas button input select "
    "textarea option label link meta base audio video source track map area dialog".split()
)

# Dropped inside the chosen article when their class/id or content look like boilerplate.
CONDITIONAL_TAGS = frozenset(["form", "fieldset", "table", "ul", "ol", "div", "section", "aside", "dl"])

# The elements whose own text is scored, and whose scores flow up to their ancestors.
SCORED_TAGS = frozenset(["section", "h2", "h3", "h4", "h5", "h6", "p", "td", "pre"])

# A div holding none of these is really a paragraph.
BLOCK_INSIDE_DIV = frozenset(["blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul", "figure"])

# Block elements for the text output: each is its own paragraph.
BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody thead tfoot tr "
    "td th caption ul".split()
)
HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
PHRASING_TAGS = frozenset(
    "abbr audio b bdo br button cite code data datalist dfn em embed i img input kbd label mark math meter "
    "noscript object output progress q ruby samp script select small span strong sub sup textarea time var "
    "wbr a del ins font u s strike big tt".split()
)

# Roles whose content is never the story.
UNLIKELY_ROLES = frozenset(
    ["menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog", "banner", "contentinfo"]
)

# class/id words of boilerplate containers; removed early unless they also look like content.
UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|"
    r"header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|"
    r"supplemental|ad-break|agegate|pagination|pager|popup|yom-remote",
    re.I,
)
# More boilerplate words of today's sites (prompts, banners, recommendation widgets).
UNLIKELY_MORE = re.compile(
    r"cookie|consent|newsletter|share-?bar|sharing|navbar|most-?popular|trending|"
    r"outbrain|taboola|author-?bio|about-?the-?author|bio-?box|more-?stories|recirc",
    re.I,
)
# An id of four or more hyphenated words is a heading's slug, not a layout name: such ids are not
# matched ("sharing-with-a-single-developer" is a section of the story).
SLUG_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+){3,}$")
MAYBE_CONTENT = re.compile(r"and|article|body|column|content|main|mathjax|shadow", re.I)
POSITIVE = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story", re.I)
NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|"
    r"meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget|"
    r"newsletter|subscribe|cookie|disqus|byline|author-?bio|nav\b",
    re.I,
)
# Image credits and copyright lines repeated as text ("Photo: Getty Images").
CREDIT = re.compile(r"(?<![a-z])(?:credit|credits|photo-?credit|image-?credit|copyright)(?![a-z])", re.I)
SHARE = re.compile(r"(\b|_)(share|sharedaddy|social|follow)(\b|_)", re.I)
BYLINE = re.compile(r"byline|author|dateline|writtenby|p-author", re.I)
COMMAS = re.compile(r"[\u002C\u060C\uFE50\uFE10\uFE11\u2E41\u2E34\u2E32\uFF0C]")
VIDEO_HOSTS = re.compile(
    r"//(www\.)?((dailymotion|youtube|youtube-nocookie|player\.vimeo|v\.qq)\.com|"
    r"(archive|upload\.wikimedia)\.org|player\.twitch\.tv)",
    re.I,
)
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

# Trailers of comment widgets and prompts: a short block that is only this is dropped.
TRAILERS = re.compile(
    r"^\s*(?:blog )?comments? powered by \w+|^\s*please enable javascript to view|"
    r"^\s*(?:advertisement|advertising|sponsored)\s*$|^\s*(?:share|share this(?: story| article)?|"
    r"tweet|email|print)\s*:?\s*$|^\s*(?:sign up for|subscribe to) (?:our|the) \w+ newsletter",
    re.I,
)

# Byline elements for metadata (word-bounded: "authorization" is not an author).
AUTHOR_HINT = re.compile(r"(?<![a-z])(?:by-?line|author(?!i[tz])|writtenby|p-author)", re.I)
# The element holds just the name, not the whole byline line.
AUTHOR_NAME = re.compile(r"author[-_]*name|authorname|byline[-_]*name|author[-_]*link|\bfn\b|\bvcard\b", re.I)
# Author-ish elements that are not this story's byline: bios, follow buttons, "more by" lists.
AUTHOR_NOISE = re.compile(r"bio|follow|more|related|note|avatar|photo|img|image|thumb|social|share|about|"
                          r"description|widget|tab\b|recommend", re.I)
AUTHOR_NOISE_CLASS = re.compile(r"bio\b|follow|more-by|related|comment|sidebar|footer", re.I)

# Elements whose text is a date ("dateline", "post-date", "timestamp").
DATE_HINT = re.compile(r"(?<![a-z])(?:dateline|date|pubdate|timestamp|posted|published|time)(?![a-z])", re.I)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_IN_TEXT = re.compile(
    r"\b(?:\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?|\d{4}/\d{1,2}/\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2})?)?"
    r"|" + _MONTH + r" \d{1,2},? \d{4}|\d{1,2} " + _MONTH + r",? \d{4})\b",
    re.I,
)
