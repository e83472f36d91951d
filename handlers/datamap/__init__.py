"""The data map (数据地图) in chat: figures and charts, spreadsheet exports, reports and the dashboard link."""
