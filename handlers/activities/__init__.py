"""Activities and the team's voice: 活动, 报名, 签到/签退, 广播, projects and the moral activity day."""
