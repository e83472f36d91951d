"""The request-category lexicon (服务类别词表) used to classify a villager's free-text order.

Each category (docs/import.md) has keywords with a weight: 4 = names the category on its own
(义诊, 宅基地), 3 = strong evidence (血压, 剪枝), 2 = typical (老人, 学费), 1 = weak or
shared between categories (辅导, 帮忙). Keywords of two or more characters match anywhere in the
text; single-character keywords (虫, 苗, 修, 捐) match only as a whole jieba word, so that "苗"
does not fire inside "疫苗". The lexicon is general domain vocabulary, not a list of known
sentences: it may — and should — grow as real requests come in. Add words, keep them general.
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "CATEGORY_CODES",
    "GENERIC_PLACES",
    "LEXICON",
    "NEGATIONS",
    "OTHER",
    "PLACE_SUFFIXES",
    "REGION_SUFFIXES",
    "URGENT_WORDS",
]

OTHER = "其他"

# The fixed category names, in the order docs/import.md lists them.
CATEGORIES: tuple[str, ...] = (
    "理论宣讲", "农业技术", "卫生健康", "法律服务", "文化文艺", "助老助残",
    "助学支教", "心理辅导", "环境整治", "生活帮扶", "移风易俗", OTHER,
)

# Stable ASCII codes for logs, exports and English UI; the Chinese name stays canonical.
CATEGORY_CODES: dict[str, str] = {
    "理论宣讲": "policy", "农业技术": "farming", "卫生健康": "health", "法律服务": "legal",
    "文化文艺": "culture", "助老助残": "elderly_disabled", "助学支教": "education",
    "心理辅导": "counselling", "环境整治": "environment", "生活帮扶": "daily_life",
    "移风易俗": "customs", OTHER: "other",
}

# category → weight → space-separated keywords (kept as text so that it reads like a word list).
# Everyday needs of a village are listed with the words people use for them (剃头, 后晌 is not a
# category word, 掏炕 is); 其他 keeps only what fits no service (lost things, loans, donations).
_RAW: dict[str, dict[int, str]] = {
    "理论宣讲": {
        4: "宣讲 养老政策 宣讲团 宣讲员 二十大 十九大 党史 党课 党的理论 新思想 习近平 理论学习 政策解读 "
           "会议精神 全会精神 创新理论 一号文件 理论宣讲 政策宣讲 惠农政策 惠民政策",
        3: "政策 惠农 乡村振兴 共同富裕 党的 党员学习 解读 新政 新政策 养老保险 医保政策 社保 "
           "土地流转 土地确权 确权 国家安全 反诈宣传 学习强国 红色教育 爱国主义 补贴 津贴 补助 "
           "养老金 居民医保 新农合 冬训 党员 优待 地力保护 种粮 粮食补贴 申请条件 够条件 啥条件 "
           "咋申请 怎么申请 咋领 报销比例",
        2: "文件 精神 形势 讲座 医疗保险 宣传 懂政策 讲明白 明白人 报销 交多少 领多少 一知半解 "
           "整不明白 不明白 涨没涨",
        1: "讲讲 讲课 了解 学习 讲一讲 给讲讲 唠唠 听听",
    },
    "农业技术": {
        4: "农技 农业技术 病虫害 虫害 炭疽病 霜霉病 白粉病 根腐病 枯萎病 晚疫病 腐烂病 种植技术 "
           "养殖技术 果树 剪枝 冬剪 修剪 嫁接 大棚 温室 扣棚 打药 施肥 养蜂 兽医 农技员 农技站 "
           "技术员 测土 鸡瘟 猪瘟 牛瘟 瘟病 禽流感 口蹄疫 驱虫 配种 合作社",
        3: "农业 种植 养殖 庄稼 农药 化肥 肥料 虫子 蚜虫 红蜘蛛 白粉虱 育苗 秧苗 种苗 果苗 苗木 "
           "缓苗 补苗 苗子 秧子 播种 种子 选种 发芽 土壤 土样 灌溉 灌根 农机 地膜 压膜 减产 产量 "
           "收成 果园 菜园 菜地 农田 玉米 水稻 小麦 大豆 高粱 谷子 小米 花生 蔬菜 黄瓜 西红柿 "
           "番茄 辣椒 茄子 白菜 土豆 草莓 葡萄 苹果 樱桃 香菇 木耳 食用菌 中药材 中草药 养猪 养鸡 "
           "养鸭 养鹅 养牛 养羊 养鱼 鱼塘 饲料 蜜蜂 蜂箱 蜂群 家畜 牲口 牲畜 家禽 叶子发黄 黄叶 "
           "卷叶 烂根 烂果 落果 授粉 猪崽 小猪 母猪 下崽 牛犊 羊羔 羔子 笨鸡 下蛋 鸭子 大鹅 "
           "不吃食 倒嚼 拉稀 打蔫 轮作 秸秆还田 专家 种地 冬季管理 防寒 埋土 保温",
        2: "种菜 地里 田里 棚里 病害 叶子 发黄 结果 果子 猪 鸡 牛 羊 鸭 鹅 鱼 兔子 树皮 啥病 "
           "什么病 得病 长白毛 黑斑 死了好几 一圈",
        1: "虫 苗 树苗 浇水 除草 收割 秸秆 技术 药",
    },
    "卫生健康": {
        4: "义诊 体检 医生 大夫 看病 就医 血压 高血压 血糖 糖尿病 康复 理疗 家庭医生 慢性病 "
           "健康讲座 急救 护士 胰岛素 复查 透析 手术 住院 牙医",
        3: "发烧 发热 咳嗽 感冒 头疼 头痛 肚子疼 拉肚子 腰疼 腿疼 胃疼 牙疼 关节 心脏病 脑梗 "
           "中风 生病 病了 吃药 用药 药品 拿药 打针 输液 疫苗 接种 中医 针灸 推拿 按摩 保健 养生 "
           "健康 医院 卫生院 卫生室 诊所 出院 护理 口腔 视力 眼睛 白内障 骨折 营养 孕妇 怀孕 "
           "孕期 产检 心肺复苏 流感 传染病 病毒 头晕 迷糊 胸闷 发炎 过敏 中毒 晕 摔倒 滑倒 "
           "摔了 摔伤 流血 出血 淌血 昏迷 叫不醒 不省人事 抽搐 抽抽 吐了 喘不上 胸口疼 "
           "冒汗 血脂 前列腺 乙肝 狗咬 换药 刀口 献血 痴呆 忘事 红疙瘩 起疹子 打蔫 伤口 大口子 割破 划破 割伤 烫伤 烧伤 止血 止不住 嘴歪 口歪 半身不遂 偏瘫 说不清 没动静 没反应 不答应 叫不应 耗子药 老鼠药 喝农药 误食 吃错药 溺水 淹着 掉水里 冰窟窿 不喘气 没气了",
        2: "腿 腰 胃 牙 眼 肝 肺 肾 嗓子 膝盖 疼 痛 病 药 卫生 锻炼 身体 量量 检查 预防 瞅瞅 看看病 不舒服 难受 岁数大 血",
    },
    "法律服务": {
        4: "律师 法律 法律援助 法援 打官司 官司 起诉 诉讼 仲裁 遗嘱 遗产 继承 宅基地 抚养费 "
           "赡养费 抚养权 欠薪 讨薪 拖欠 工伤 家暴 公证 侵权 维权 诈骗 被骗 骗子 普法 懂法 "
           "合法 违法 犯法 告他 告状 要告",
        3: "纠纷 合同 协议 借条 欠条 欠钱 借款 赔偿 不赔 不给赔 赔钱 离婚 上当 报警 房产证 "
           "过户 地界 占地 占了 霸占 侵占 强占 承包合同 劳动合同 承包地 包地 权益 调解 财产 分家 "
           "分房子 工钱 工资 欠俺 欠了 不给钱 不还 没给 不认帐 不认账 说理 评理 说道说道 "
           "包工头 老板 车祸 保险公司 粮贩子 婚姻法 继承法 辞退 开除 补偿 骗了 不承认",
        2: "赡养 法院 派出所 打工 告 说法 利息 讨个 要回来 要不回",
        1: "咨询 邻居",
    },
    "文化文艺": {
        4: "文艺 演出 秧歌 二人转 广场舞 书法 戏曲 京剧 评剧 文化广场 文艺汇演 非遗 剪纸 "
           "皮影 快板 小品 葫芦丝 手风琴 毛笔字 春联 文艺队 合唱队",
        3: "文化 表演 节目 晚会 联欢 唱歌 合唱 跳舞 舞蹈 编舞 绘画 画画 美术 文化墙 乐器 二胡 "
           "唢呐 锣鼓 腰鼓 打鼓 摄影 电影 放电影 图书 农家书屋 新书 阅读 读书会 文体 运动会 "
           "篮球 比赛 排练 太极 象棋 刺绣 手工 灯会 春晚 主持 伴奏 音响 演一场 扭秧歌 吹拉弹唱 ",
        2: "演 唱 跳 舞 戏 排 裁判 老辈人 传下去",
        1: "过年 过节 春节 老师",
    },
    "助老助残": {
        4: "孤寡 空巢 独居 一个人住 一个人过 五保 五保户 敬老院 养老院 残疾 残疾人 残障 轮椅 助听器 助行器 失能 "
           "卧床 瘫痪 瘫 高龄 无人照顾 没人照顾 助餐 送餐 老年食堂 孤老 盲人 聋哑 截肢 手语",
        3: "老人 老年人 老大爷 老太太 老两口 拐杖 理发 理个发 剃头 剪头 推头 头发 "
           "剪指甲 洗澡 擦身 擦洗 洗脚 翻身 陪护 护工 照料 看望 探望 陪伴 养老 耳背 眼神不好 "
           "出不去门 出不了门 行动不便 腿脚不便 腿脚不好 腿脚不行 腿脚不利索 "
           "老年痴呆 送饭 送顿饭 热乎饭 扶手 念报纸 证件照 残疾证 助残",
        2: "老爷子 大爷 大娘 奶奶 爷爷 姥姥 姥爷 老奶奶 老爷爷 照顾 上门 腿脚 老伴 八十 九十 七十 "
           "岁数大 隔三差五 隔两天 隔几天 每天来 定期 每礼拜 一个人在家 出门",
        1: "老年 取暖",
    },
    "助学支教": {
        4: "支教 助学 上网课 留守儿童 辅导功课 辅导作业 补课 家教 学费 助学金 奖学金 陪读 课后服务 "
           "补习 作业 功课",
        3: "学习 成绩 考试 中考 高考 考上 上学 学生 学校 教育 数学 语文 英语 物理 化学 "
           "作文 拼音 口语 跟不上 暑期班 暑假班 寒假班 托管 放学 网课 课本 书包 文具 贫困生 "
           "夏令营 兴趣班 不及格 报志愿 升学 职高 念书 期末 上课 课堂 实验课 补补 辅导辅导 "
           "一对一 初一 初二 初三 高一 高二 高三 年级 大学生 考砸",
        2: "大学 上大学 暑期 暑假 寒假 读书 儿童 小学 初中 高中 学 教 走神 学习方法 电脑 没电脑",
        1: "孩子 辅导 班 老师 闺女 儿子",
    },
    "心理辅导": {
        4: "心理 心理咨询 心理辅导 心理疏导 心理老师 抑郁 焦虑 想不开 轻生 自杀 心结 "
           "亲子关系 家庭教育 不想活 活着没意思 想死 绝望 心理健康",
        3: "情绪 难过 伤心 压力 孤独 孤单 寂寞 失眠 睡不着 开导 疏导 谈心 自卑 叛逆 厌学 网瘾 上瘾 "
           "沉迷 青春期 闷闷不乐 不说话 不爱说话 不想上学 走不出来 心情 哭 憋屈 闹心 心慌 "
           "堵得慌 发呆 噩梦 唉声叹气 叹气 没心思 寻思事 老寻思 脾气 摔东西 说说话 唠唠嗑 "
           "唠嗑 空落落 愁 发愁 欺负 吵 天天吵 婆媳 心里",
        2: "亲子 沟通 聊聊 吵架 矛盾 去世 过世 没意思 担心 郁闷 心烦 烦心 不理 想不通 不开心 "
           "关屋里 不吃不喝 跟他唠 给他唠 老伴走了 走了以后",
        1: "紧张 辅导 唠唠",
    },
    "环境整治": {
        4: "垃圾 垃圾分类 环境卫生 人居环境 村容村貌 环境整治 污染 白色污染 脏乱差 建筑垃圾 "
           "垃圾箱 垃圾桶 旱厕 改厕",
        3: "环境 清理 清扫 清运 河沟 河道 河套 沟渠 水沟 排水沟 臭水沟 臭水坑 塑料袋 塑料瓶 "
           "污水 臭 乱扔 乱倒 乱堆 乱放 焚烧 绿化 植树 种树 美化 厕所 杂草 积水 扫雪 清雪 铲雪 "
           "倒树 刮倒 路障 挡路 路灯 淤泥 清淤 死猪 死鱼 排污 冰溜子 刨冰 坑坑洼洼 村道 道上 "
           "大扫除 蚊子 苍蝇 填上 垫垫 电线杆",
        2: "脏 路边 道路 路面 柴草 粪堆 落叶 树枝 村口 村西头 村东头 桥头 后街 满地 掏 没人清 清清 过不去 拉走 满天烟 烧秸秆",
        1: "打扫 路 河 沟",
    },
    "生活帮扶": {
        4: "代买 买菜 买点菜 代购 跑腿 智能手机 水管 灯泡 电路 跳闸 下水道 维修 修理 网店 电商 直播带货 网上卖 "
           "烟筒 烟囱 电工 水管子 暖气 机顶盒 电褥子 电闸 保险丝 电表",
        3: "修 换灯泡 电灯 电线 线路 停电 没电 漏水 水龙头 冻裂 冻上了 冻住了 家电 电视 洗衣机 "
           "冰箱 炉子 烧炕 掏炕 盘炕 搬家 搬运 搬东西 抬 米面油 生活用品 送到家 快递 缴费 "
           "电费 水费 话费 充值 代办 办证 视频通话 视频 微信 上网 开店 卖不出去 卖卖 滞销 "
           "销路 困难户 低保 找工作 就业 接送 打扫卫生 家务 做家务 收拾屋子 煤 拉煤 卸煤 "
           "柴火 劈柴 木头 玻璃 房顶 漏雨 压水井 自来水 灭火器 煤气 液化气 天然气 漏气 冒烟 "
           "着火 打火 灶台 衣柜 柜子 沙发 大衣柜 菜窖 粉刷 捎 捎点 申请表 填表 健康码",
        2: "手机 坏了 修好 搬 卖 做饭 洗衣 生活困难 物资 网上 灯 没水 不亮 院里 雪 门口 弄弄 "
           "不会弄 安 装 通通 扫扫 帮着 买点 捎回来",
        1: "帮忙 帮帮",
    },
    "移风易俗": {
        4: "移风易俗 摆酒 办酒 摆酒席 红白事 红白喜事 大操大办 厚养薄葬 薄葬 天价彩礼 高价彩礼 彩礼 婚丧 "
           "陋习 封建迷信 文明婚礼 红白理事会 村规民约 文明祭扫 新风尚 乡风文明 文明乡风 "
           "婚事新办 丧事简办 喜事新办 集体婚礼 跳大神 流水席",
        3: "婚礼 婚事 婚俗 丧事 白事 红事 丧葬 殡葬 火葬 火化 公墓 土葬 迷信 算命 风水 大仙 烧纸 "
           "纸活 吹鼓手 赌博 赌钱 铺张浪费 攀比 份子钱 随份子 随礼 人情债 酒席 满月酒 "
           "升学宴 乔迁宴 寿宴 大寿 过寿 做寿 祝寿 办寿 简单办 新风 孝老爱亲 简办 简朴 娶媳妇 结婚 说媳妇 要楼要车 风气",
        2: "文明 节俭 风俗 习俗 喜事 过世 办事",
    },
    # Requests for which no team exists: lost things, loans, donations, joining as a volunteer.
    OTHER: {
        3: "机器人 干什么的 怎么用 捐 捐赠 捐款 捐物 旧衣服 当志愿者 做志愿者 加入志愿 报名 注册 "
           "投诉 表扬 失主 钱包 丢了 充电器 借点钱 周转",
        2: "手机号 修改 找不着 借俺",
    },
}


def _build(raw: dict[str, dict[int, str]]) -> dict[str, dict[str, float]]:
    """Flatten the weight-grouped word lists into category → {keyword: weight}."""
    lexicon: dict[str, dict[str, float]] = {}
    for category, groups in raw.items():
        if category not in CATEGORIES:  # a typo here would silently create a 13th category
            raise ValueError(f"unknown category in lexicon: {category}")
        words: dict[str, float] = {}
        for weight, text in groups.items():
            for word in text.split():
                # A word listed twice keeps its highest weight, so editing mistakes stay harmless.
                words[word] = max(words.get(word, 0.0), float(weight))
        lexicon[category] = words
    return lexicon


# category → {keyword: weight}
LEXICON: dict[str, dict[str, float]] = _build(_RAW)

# Urgency markers (急单). Multi-character ones match anywhere; "急" only as a whole word, so
# that "急救培训" is not urgent.
URGENT_WORDS: tuple[str, ...] = (
    "急", "紧急", "着急", "急需", "急用", "急事", "很急", "太急", "挺急", "特别急", "十万火急",
    "火急", "马上", "赶紧", "赶快", "尽快", "立刻", "立即", "救命", "越快越好", "等不了",
    "刻不容缓", "加急", "快来", "危险", "现在就",
)
# Words that cancel a following urgency marker ("不急", "不用着急"), longest first.
NEGATIONS: tuple[str, ...] = ("不用", "不太", "无需", "不必", "并不", "不", "别", "没")

# Endings of the place names a resident mentions (杨家村, 蓬莱社区, 黄土坎镇, 村文化广场).
PLACE_SUFFIXES: tuple[str, ...] = ("村委会", "居委会", "街道", "社区", "广场", "村", "屯", "镇", "乡")
# Endings that make a lone jieba `ns` word a region (朝阳县, 北票市) rather than a landform (河沟).
REGION_SUFFIXES: tuple[str, ...] = ("省", "市", "县", "区", "旗", "盟", "州")
# Words that end like a place but name none ("农村", "全村", "家乡"), plus the bare suffixes.
GENERIC_PLACES: frozenset[str] = frozenset(
    "村 屯 镇 乡 社区 街道 广场 村委会 居委会 农村 乡村 山村 新农村 全村 本村 我村 该村 邻村 "
    "外村 城乡 家乡 老乡 故乡 同乡 乡镇 城镇 小镇 本镇 全镇 全乡 本乡 本社区".split()
)
