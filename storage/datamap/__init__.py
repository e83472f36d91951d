"""The data map (数据地图): maintained aggregates, their triggers and recount, figures, exports, the dashboard's login."""
