"""The request-category lexicon (服务类别词表) used to classify a villager's free-text order.

Each category (PRODUCT.md §9) has keywords with a weight: 4 = names the category on its own
(义诊, 宅基地), 3 = strong evidence (血压, 剪枝), 2 = typical (老人, 学费), 1 = weak or
shared between categories (辅导, 帮忙). Keywords of two or more characters match anywhere in the
text; single-character keywords (虫, 苗, 修, 捐) match only as a whole jieba word, so that "苗"
does not fire inside "疫苗". The lexicon is general domain vocabulary, not a list of known
sentences: it may — and should — grow as real requests come in. Add words, keep them general.
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES", "OTHER", "CATEGORY_CODES", "LEXICON", "URGENT_WORDS", "NEGATIONS",
    "PLACE_SUFFIXES", "REGION_SUFFIXES", "GENERIC_PLACES",
]

OTHER = "其他"

# The fixed category names, in the order PRODUCT.md §9 lists them.
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
_RAW: dict[str, dict[int, str]] = {
    "理论宣讲": {
        4: "宣讲 二十大 十九大 党史 党课 党的理论 新思想 习近平 理论学习 政策解读 会议精神",
        3: "政策 惠农 乡村振兴 共同富裕 党的 党员学习 解读 新政 养老保险 医保政策 社保 "
           "土地流转 土地确权 国家安全 反诈宣传 学习强国 红色教育 爱国主义",
        2: "补贴 文件 精神 形势 讲座 新农合 医疗保险 宣传",
        1: "讲讲 讲课 了解 学习",
    },
    "农业技术": {
        4: "农技 农业技术 病虫害 虫害 炭疽病 霜霉病 白粉病 根腐病 枯萎病 晚疫病 种植技术 "
           "养殖技术 果树 剪枝 修剪 嫁接 大棚 温室 打药 施肥 养蜂 兽医",
        3: "农业 种植 养殖 庄稼 农药 化肥 肥料 虫子 蚜虫 红蜘蛛 育苗 秧苗 种苗 果苗 苗木 播种 "
           "种子 发芽 土壤 测土 灌溉 农机 地膜 减产 产量 收成 果园 菜园 菜地 农田 玉米 水稻 "
           "小麦 大豆 高粱 谷子 花生 蔬菜 黄瓜 西红柿 番茄 辣椒 茄子 白菜 土豆 草莓 葡萄 苹果 "
           "樱桃 香菇 木耳 食用菌 中药材 养猪 养鸡 养鸭 养鹅 养牛 养羊 养鱼 猪瘟 禽流感 饲料 "
           "蜜蜂 蜂群 家畜 牲口 叶子发黄 黄叶 卷叶 烂根 烂果 落果 授粉",
        2: "种地 种菜 地里 田里 病害 叶子 发黄 结果 果子 猪 鸡 牛 羊",
        1: "虫 苗 树苗 浇水 除草 收割 秸秆",
    },
    "卫生健康": {
        4: "义诊 体检 医生 大夫 看病 就医 血压 高血压 血糖 糖尿病 康复 理疗 家庭医生 慢性病 "
           "健康讲座 急救",
        3: "发烧 发热 咳嗽 感冒 头疼 头痛 肚子疼 拉肚子 腰疼 腿疼 关节 心脏病 脑梗 中风 "
           "生病 病了 吃药 用药 药品 打针 输液 疫苗 接种 中医 针灸 推拿 按摩 保健 养生 健康 "
           "医院 卫生院 诊所 住院 护理 口腔 牙疼 视力 眼睛 骨折 营养 孕妇 产检 心肺复苏 "
           "流感 传染病 病毒 头晕 胸闷 发炎 过敏",
        2: "疼 痛 病 药 卫生 锻炼 腿脚 身体 量量 检查 预防",
    },
    "法律服务": {
        4: "律师 法律 法律援助 法援 打官司 官司 起诉 诉讼 仲裁 遗嘱 遗产 继承 宅基地 抚养费 "
           "赡养费 抚养权 欠薪 讨薪 拖欠 工伤 家暴 公证 侵权 维权 诈骗 被骗 骗子",
        3: "纠纷 合同 协议 借条 欠条 欠钱 借款 赔偿 离婚 上当 违法 犯法 报警 房产证 过户 "
           "地界 占地 霸占 侵占 承包合同 劳动合同 权益 调解 财产 分家 分房",
        2: "工资 工钱 打工 老板 赡养 法院 派出所",
        1: "咨询",
    },
    "文化文艺": {
        4: "文艺 演出 秧歌 二人转 广场舞 书法 戏曲 京剧 评剧 文化广场 文艺汇演 非遗 剪纸",
        3: "文化 表演 节目 晚会 联欢 唱歌 合唱 跳舞 舞蹈 绘画 画画 美术 乐器 二胡 唢呐 锣鼓 "
           "腰鼓 摄影 电影 放电影 图书 阅读 读书会 文体 运动会 篮球 比赛 排练 太极 象棋 刺绣 "
           "手工 灯会 春晚",
        2: "演 唱 跳 舞 戏 排",
        1: "过年 过节 春节",
    },
    "助老助残": {
        4: "孤寡 空巢 独居 五保 敬老院 养老院 残疾 残疾人 残障 轮椅 助听器 失能 卧床 瘫痪 "
           "高龄 无人照顾 没人照顾 助餐 送餐 老年食堂",
        3: "老人 老年人 老大爷 老太太 老两口 盲人 聋哑 拐杖 理发 剪指甲 洗澡 陪护 护工 "
           "照料 看望 探望 陪伴 养老",
        2: "大爷 大娘 奶奶 爷爷 姥姥 姥爷 老奶奶 老爷爷 照顾 上门 行动不便 腿脚不便 腿脚不好 腿脚 "
           "老伴 八十 九十",
        1: "老年 取暖",
    },
    "助学支教": {
        4: "支教 助学 留守儿童 辅导功课 辅导作业 补课 家教 学费 助学金 奖学金 陪读 课后服务",
        3: "学习 成绩 作业 功课 考试 中考 高考 考上 上学 上大学 学生 学校 教育 数学 语文 "
           "英语 物理 化学 跟不上 暑期班 暑假班 寒假班 托管 放学 网课 课本 书包 文具 贫困生 "
           "夏令营 兴趣班",
        2: "大学 大学生 暑期 暑假 寒假 读书 儿童 小学 初中 高中",
        1: "孩子 辅导 班",
    },
    "心理辅导": {
        4: "心理 心理咨询 心理辅导 心理疏导 心理老师 抑郁 焦虑 想不开 轻生 自杀 心结 "
           "亲子关系 家庭教育 不想活 活着没意思 想死 绝望",
        3: "情绪 难过 伤心 压力 孤独 失眠 开导 疏导 谈心 自卑 叛逆 厌学 网瘾 沉迷 青春期 "
           "闷闷不乐 不说话 不想上学 走不出来 心情 哭",
        2: "亲子 沟通 聊聊 吵架 矛盾 去世 过世 没意思 担心 郁闷 心烦 烦心 不理 想不通 不开心",
        1: "紧张 辅导",
    },
    "环境整治": {
        4: "垃圾 垃圾分类 环境卫生 人居环境 村容村貌 环境整治 污染 白色污染 脏乱差",
        3: "环境 清理 清扫 清运 河沟 河道 沟渠 水沟 塑料袋 污水 臭 乱扔 乱倒 乱堆 乱放 焚烧 "
           "绿化 植树 种树 美化 改厕 厕所 杂草 积水 扫雪 清雪 铲雪 倒树 刮倒 路障 挡路",
        2: "脏 路边 道路 路面 柴草 粪堆 落叶 树枝",
        1: "打扫 路",
    },
    "生活帮扶": {
        4: "代买 代购 跑腿 智能手机 水管 灯泡 电路 跳闸 下水道 维修 修理 网店 电商 直播带货",
        3: "修 换灯泡 电灯 电线 停电 漏水 水龙头 冻裂 家电 电视 洗衣机 冰箱 暖气 炉子 烧炕 "
           "搬家 搬运 搬东西 买菜 米面油 生活用品 送到家 快递 缴费 电费 水费 话费 充值 代办 "
           "办证 视频通话 手机 微信 上网 开店 卖不出去 滞销 销路 困难户 低保 找工作 就业 接送 "
           "打扫卫生 家务 做家务 收拾屋子 大扫除",
        2: "坏了 修好 搬 煤 卖 做饭 洗衣 生活困难 物资 网上",
        1: "帮忙 帮帮",
    },
    "移风易俗": {
        4: "移风易俗 红白事 红白喜事 大操大办 厚养薄葬 薄葬 天价彩礼 高价彩礼 彩礼 婚丧 "
           "陋习 封建迷信 文明婚礼 红白理事会 村规民约 文明祭扫 新风尚 乡风文明 文明乡风",
        3: "婚礼 婚事 婚俗 丧事 丧葬 殡葬 火葬 土葬 迷信 算命 烧纸 赌博 铺张浪费 攀比 "
           "份子钱 随礼 人情债 酒席 新风 喜事新办 丧事简办 孝老爱亲",
        2: "文明 节俭 风俗 习俗",
    },
    # Messages that are not requests at all: thanks, questions about the bot, offers to help.
    OTHER: {
        3: "谢谢 感谢 多谢 机器人 干什么的 怎么用 捐 捐赠 捐款 捐物 当志愿者 做志愿者 "
           "加入志愿 报名 注册 投诉 表扬 你好 您好",
        2: "手机号 修改",
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
