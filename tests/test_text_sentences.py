import pytest

from indextts_yt.text.breaks import Level
from indextts_yt.text.quotes import enclosed_spans
from indextts_yt.text.sentences import sentence_breaks, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Plain English narration.
        ("Here is Edward Bear. He is coming downstairs! Is he?", ["Here is Edward Bear.", "He is coming downstairs!", "Is he?"]),
        ("It was over.", ["It was over."]),
        ("No terminator at the end", ["No terminator at the end"]),
        ("Really?! Yes!!! Fine...", ["Really?!", "Yes!!!", "Fine..."]),
        # Decimals, money, times, versions, URLs, e-mail addresses.
        ("Pi is about 3.14. It never ends.", ["Pi is about 3.14.", "It never ends."]),
        ("The tea cost $2.50. The cake was free.", ["The tea cost $2.50.", "The cake was free."]),
        ("We met at 10:30 a.m. sharp. Nobody was late.", ["We met at 10:30 a.m. sharp.", "Nobody was late."]),
        ("We met at 10:30 a.m. The coffee was cold.", ["We met at 10:30 a.m.", "The coffee was cold."]),
        ("Install v1.2.3 first. Then restart.", ["Install v1.2.3 first.", "Then restart."]),
        (
            "Visit https://example.com/a.b?c=d today. Or write to x@y.org. Thanks!",
            ["Visit https://example.com/a.b?c=d today.", "Or write to x@y.org.", "Thanks!"],
        ),
        ("Scores rose to 9.5/10. Critics agreed.", ["Scores rose to 9.5/10.", "Critics agreed."]),
        # Titles and Latin abbreviations never end a sentence.
        ("Dr. Watson met Mr. and Mrs. Hudson. They talked.", ["Dr. Watson met Mr. and Mrs. Hudson.", "They talked."]),
        ("We walked to St. Paul's Cathedral. It was closed.", ["We walked to St. Paul's Cathedral.", "It was closed."]),
        ("Some cities, e.g. Paris, are old. Others, i.e. New ones, are not.", ["Some cities, e.g. Paris, are old.", "Others, i.e. New ones, are not."]),
        ("It was Smith vs. Jones. Jones won.", ["It was Smith vs. Jones.", "Jones won."]),
        ("DR. SMITH ARRIVED. HE SAT.", ["DR. SMITH ARRIVED.", "HE SAT."]),
        # Number labels hold on to their number.
        ("He lived at No. 5 Privet Drive. It was tidy.", ["He lived at No. 5 Privet Drive.", "It was tidy."]),
        ("See Fig. 3 and p. 12 for details. They help.", ["See Fig. 3 and p. 12 for details.", "They help."]),
        ("He said no. Then he left.", ["He said no.", "Then he left."]),
        # "etc." ends the sentence only when a new one follows.
        ("Apples, pears, etc. are on sale today. Buy some.", ["Apples, pears, etc. are on sale today.", "Buy some."]),
        ("We bought apples, pears, etc. Then we went home.", ["We bought apples, pears, etc.", "Then we went home."]),
        # Initials and dotted acronyms before a capital.
        ("J. R. R. Tolkien wrote it. He taught at Oxford.", ["J. R. R. Tolkien wrote it.", "He taught at Oxford."]),
        ("The U.S. Navy sailed at dawn. The U.K. fleet followed.", ["The U.S. Navy sailed at dawn.", "The U.K. fleet followed."]),
        # Ellipses: lowercase continues, anything else starts a new sentence.
        ("Wait... what? That is odd.", ["Wait... what?", "That is odd."]),
        ("Wait… what? That is odd.", ["Wait… what?", "That is odd."]),
        ("He looked where he was going ... and fell down.", ["He looked where he was going ... and fell down."]),
        ("We have forgotten.... It was long ago.", ["We have forgotten....", "It was long ago."]),
        # Lowercase after ! or ? continues (old-fashioned exclamations).
        ("Oh! how nice it was. Yes.", ["Oh! how nice it was.", "Yes."]),
        # Quoted speech stays with its quote; closing quotes attach to the sentence.
        ("“Hello. How are you?” she asked. “Fine.”", ["“Hello. How are you?” she asked.", "“Fine.”"]),
        ('"Hello. How are you?" she asked. "Fine."', ['"Hello. How are you?" she asked.', '"Fine."']),
        ("‘Hello. How are you?’ she asked. ‘Fine.’", ["‘Hello. How are you?’ she asked.", "‘Fine.’"]),
        ('"What about a story?" I said. "Good."', ['"What about a story?" I said.', '"Good."']),
        ('He said, "Stop." Then he left.', ['He said, "Stop."', "Then he left."]),
        ('"What about me?" "My dear Piglet," I said.', ['"What about me?"', '"My dear Piglet," I said.']),
        ("(It was raining. We stayed in.) Then the sun came out.", ["(It was raining. We stayed in.)", "Then the sun came out."]),
        ("He left (finally.) She stayed.", ["He left (finally.)", "She stayed."]),
        # Apostrophes are not quotes.
        ("Pooh's honey isn't here. Piglet's is.", ["Pooh's honey isn't here.", "Piglet's is."]),
        ("It’s Pooh’s. Don’t touch it.", ["It’s Pooh’s.", "Don’t touch it."]),
        # An unclosed quote does not swallow the rest of the paragraph.
        ('"I went home. Then I slept. Then I woke.', ['"I went home.', "Then I slept.", "Then I woke."]),
        # Chinese.
        ("今天天气很好。我们去公园吧！你去吗？", ["今天天气很好。", "我们去公园吧！", "你去吗？"]),
        ("第一，准备材料；第二，开始做饭。", ["第一，准备材料；", "第二，开始做饭。"]),
        ("我不知道……也许吧。", ["我不知道……", "也许吧。"]),
        ("真的吗？！太好了。", ["真的吗？！", "太好了。"]),
        ("他说：“你好。”然后走了。", ["他说：“你好。”", "然后走了。"]),
        ("“你好吗？”她问。“我很好。”他回答。", ["“你好吗？”她问。", "“我很好。”他回答。"]),
        ("“哦，不！”他叫道。", ["“哦，不！”他叫道。"]),
        ("“我来了！”小明推开门走了进来。", ["“我来了！”", "小明推开门走了进来。"]),
        ("“好的。”然后他走了。", ["“好的。”", "然后他走了。"]),
        ("她说：「走吧！」我们就走了。", ["她说：「走吧！」", "我们就走了。"]),
        ("「你好！」他说。『再见。』", ["「你好！」他说。", "『再见。』"]),
        ("“这是真的吗？”“当然！”", ["“这是真的吗？”", "“当然！”"]),
        ("他读了《红楼梦》。很好看。", ["他读了《红楼梦》。", "很好看。"]),
        ("圆周率约为3.14。对吧？", ["圆周率约为3.14。", "对吧？"]),
        # Mixed Chinese and English.
        ("我们用 Python 3.11 写代码。It works! 好的。", ["我们用 Python 3.11 写代码。", "It works!", "好的。"]),
        ("太好了!我们走吧。", ["太好了!", "我们走吧。"]),
        ("1.第一步 2.第二步", ["1.第一步 2.第二步"]),
        ("版本号是 v1.2.3。Dr. Li 说没问题。", ["版本号是 v1.2.3。", "Dr. Li 说没问题。"]),
        # Punctuation with nothing before it is not a sentence.
        ("…… and so on.", ["…… and so on."]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_sentence_end_inside_quotes_is_kept_as_a_quoted_break():
    text = "“Hello. How are you?” she asked."
    levels = [(text[: b.end], b.level) for b in sentence_breaks(text)]
    assert ("“Hello.", Level.QUOTED) in levels
    assert all(level != Level.SENTENCE for _, level in levels)


def test_ellipsis_that_continues_is_a_clause_break():
    text = "Wait... what now?"
    assert [(b.end, b.level) for b in sentence_breaks(text)] == [(7, Level.CLAUSE)]


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ('He said "hi" and "bye".', ['"hi"', '"bye"']),
        ("“a (b) c”", ["“a (b) c”", "(b)"]),
        ("an emoticon :) and (a pair)", ["(a pair)"]),
        ("don't 'quote' me", ["'quote'"]),
        ("“never closed", []),
        # A quote that opens while another never closed replaces it, so a later stray
        # closing quote cannot reach back and swallow everything in between.
        ('"a. "b" c. d" e', ['"b"']),
    ],
)
def test_enclosed_spans(text, pairs):
    assert [text[s.start : s.end] for s in enclosed_spans(text)] == pairs
