"""Chinese texts the tests and benchmarks share, written for the project."""

from __future__ import annotations

#: About 300 Han characters of everyday narration (a small town through one day), in four
#: paragraphs.
TOWN_DAY = (
    "清晨六点，小镇还没有完全醒来。街角的面包店已经亮起了灯，老板把刚出炉的面包一排排摆上木架，"
    "香味顺着门缝飘到街上。送报的年轻人骑着自行车经过，向店里挥了挥手。\n\n"
    "不远处的河面上升起一层薄雾，几只白鹭站在浅水里，一动不动地等着小鱼游过。"
    "学校的钟声响起以前，孩子们三三两两地走过石桥，有的背着书包小跑，有的边走边背昨天学过的课文。\n\n"
    "菜市场渐渐热闹起来，卖菜的阿姨一边称重一边和熟客聊天，问他们家里的老人身体好不好。"
    "太阳慢慢升高，雾气散去，远处的山也露出了清楚的轮廓。\n\n"
    "到了中午，街上的人少了，大家回家吃饭、午睡，只剩下树上的蝉还在不停地叫着。"
    "傍晚时分，晚霞把整条河染成了橘红色，散步的人沿着河边慢慢地走，谈论着一天里发生的小事。"
)

#: Held-in sentences for intelligibility: numbers, a date, percentages, prices, an acronym.
HELD_IN = [
    "今天的会议将在下午三点开始，请大家准时参加。",
    "2024年3月15日，公司的收入增长了12.5%。",
    "这本书一共有320页，我已经读完了一半。",
    "她介绍了一个新的语音合成模型，效果非常自然。",
    "我们用AI写代码，效率提高了很多。",
    "明天的气温是零下5度，记得多穿衣服。",
    "他在北京工作了十年，去年搬到了上海。",
    "这款手机的价格是3999元，比去年便宜了百分之二十。",
]
