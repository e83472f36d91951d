"""Importing a network from the county's spreadsheets (名单导入): reading, checking, writing."""
