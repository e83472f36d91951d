// 新风 · 数据地图: the region tree (a drawer on a phone), drill-down, a choropleth map, charts and latest lists, from /api/.
// No CDN: Apache ECharts comes from this server (/dashboard/static/echarts.min.js, installed by `make`); without it
// the page shows tables and says so. Every element is built with textContent and every tooltip is a DOM node,
// so no data is ever parsed as HTML.
"use strict";

const LEVEL = { province: "省", city: "市", center: "中心", institute: "所", station: "站", point: "点" };
const TASK_STATUS = { submitted: "待派单", dispatched: "待接单", accepted: "已接单", completed: "待评价",
                      closed: "已完成", cancelled: "已取消" };
// The figures the map and the comparison can show: key, label, unit.
const METRICS = [["volunteers", "志愿者", "人"], ["active_volunteers", "近30天服务", "人"], ["tasks", "任务", "个"],
                 ["hours", "服务时长", "小时"], ["activities", "活动", "场"]];
const RED = ["#fde8e6", "#f4a99f", "#e05a4c", "#b32121", "#7a1010"];

const state = { scope: null, selected: null, metric: "volunteers", children: [], unit: null, map: null,
                nodes: new Map(), seq: 0, charts: {}, echarts: null };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const kid of kids) node.append(kid);
  return node;
}

async function api(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message || `请求失败（${response.status}）`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function num(n) { return Number(n || 0).toLocaleString("zh-CN", { maximumFractionDigits: 2 }); }
function metric(key) { return METRICS.find((m) => m[0] === key) || METRICS[0]; }

function duration(minutes) {
  if (minutes === null || minutes === undefined) return "暂无";
  if (minutes < 60) return `${minutes} 分钟`;
  if (minutes < 1440) return `${Math.floor(minutes / 60)} 小时${minutes % 60 ? ` ${minutes % 60} 分钟` : ""}`;
  return `${Math.floor(minutes / 1440)} 天 ${Math.floor((minutes % 1440) / 60)} 小时`;
}

// "蓬莱社区新时代文明实践站" → "蓬莱社区": what fits beside a bar.
function shortName(name) { return name.replace(/(新时代)?(文明实践)?(中心|所|站|点)$/, "") || name; }

// "2026-01" → "2026年1月" where the year changes (and on the first month), else "2月".
function monthLabel(month, i, months) {
  const [y, m] = month.split("-");
  const changes = i === 0 || months[i - 1].month.slice(0, 4) !== y;
  return changes ? `${y}年${Number(m)}月` : `${Number(m)}月`;
}

function go(code) { closeDrawer(); location.hash = `#/unit/${encodeURIComponent(code)}`; }

// ---------------------------------------------------------------- ECharts, loaded from this server

function loadCharts() {
  if (state.echarts) return state.echarts;
  state.echarts = new Promise((resolve) => {
    const script = el("script", { src: "/dashboard/static/echarts.min.js" });
    script.addEventListener("load", () => resolve(Boolean(window.echarts)));
    script.addEventListener("error", () => resolve(false));
    document.head.append(script);
  });
  return state.echarts;
}

function chart(id) {
  const box = $(id);
  if (!state.charts[id]) state.charts[id] = window.echarts.init(box, null, { renderer: "canvas" });
  return state.charts[id];
}

// A tooltip as DOM nodes: a bold first line, then plain lines.
function tip(title, ...lines) {
  return el("div", { class: "tip" }, el("b", { text: title }), ...lines.map((l) => el("div", { text: l })));
}

const TOOLTIP = { confine: true, backgroundColor: "rgba(255,255,255,.96)", borderColor: "#ccc",
                  textStyle: { color: "#222", fontSize: 13 } };

// ---------------------------------------------------------------- the tree (a drawer on a phone)

function openDrawer() {
  document.body.classList.add("drawer-open");
  $("scrim").hidden = false;
  $("menu").setAttribute("aria-expanded", "true");
}

function closeDrawer() {
  document.body.classList.remove("drawer-open");
  $("scrim").hidden = true;
  $("menu").setAttribute("aria-expanded", "false");
}

function treeNode(item) {
  const link = el("a", { href: `#/unit/${encodeURIComponent(item.code)}`, "data-code": item.code, text: item.name,
                         onclick: closeDrawer });
  const toggle = el("button", { class: "toggle", type: "button", "aria-label": "展开", text: "▸" });
  const list = el("ul", { hidden: "" });
  const li = el("li", { "data-code": item.code }, toggle, link, el("span", { class: "level", text: LEVEL[item.level] || "" }), list);
  const node = { li, list, toggle, link, loaded: false, open: false };
  if (item.level === "point") toggle.disabled = true;
  toggle.addEventListener("click", () => (node.open ? collapse(node) : expand(item.code)));
  state.nodes.set(item.code, node);
  return li;
}

function fillChildren(code, children) {
  const node = state.nodes.get(code);
  if (!node || node.loaded) return;
  node.loaded = true;
  if (!children.length) { node.toggle.disabled = true; return; }
  for (const child of children) node.list.append(treeNode(child));
}

async function expand(code) {
  const node = state.nodes.get(code);
  if (!node) return;
  if (!node.loaded) fillChildren(code, (await api(`/api/units/${encodeURIComponent(code)}`)).children);
  node.list.hidden = false;
  node.open = true;
  node.toggle.textContent = "▾";
}

function collapse(node) {
  node.list.hidden = true;
  node.open = false;
  node.toggle.textContent = "▸";
}

function markSelected(code) {
  for (const [c, node] of state.nodes) node.link.classList.toggle("selected", c === code);
}

// ---------------------------------------------------------------- cards and tables

function card(label, value, note) {
  return el("div", { class: "card" }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }),
            el("div", { class: "note", text: note || "" }));
}

function renderCards(u) {
  const below = Object.entries(u.units).map(([lv, n]) => `${LEVEL[lv] || lv} ${n}`).join("，") || "无";
  const tasks = Object.entries(u.tasks_by_status).filter(([, n]) => n).map(([s, n]) => `${TASK_STATUS[s] || s} ${n}`);
  const wishes = Object.values(u.wishes_by_status).reduce((a, b) => a + b, 0);
  $("cards").replaceChildren(
    card("志愿者", num(u.volunteers), `近30天服务过 ${num(u.active_volunteers)} 人`),
    card("任务", num(u.tasks), tasks.join("，")),
    card("服务时长", num(u.hours), "小时（已核定）"),
    card("活动", num(u.activities), "场（不含取消）"),
    card("志愿服务队伍", num(u.teams), "支"),
    card("下辖单位", num(Object.values(u.units).reduce((a, b) => a + b, 0)), below),
    card("接单用时中位数", duration(u.median_accept_minutes), "从点单到接单"),
    card("受益群众", num(u.beneficiaries), "人次"),
    card("项目", num(u.projects), "个"),
    card("微心愿", num(wishes), `结对帮扶 ${num(u.pairings)} 户，走访 ${num(u.pairing_visits)} 次`),
  );
}

function renderTable(id, headers, rows, numeric) {
  const head = el("tr", {}, ...headers.map((t, i) => el("th", { text: t, class: numeric && numeric[i] ? "num" : "" })));
  const body = rows.length ? rows.map((r) => (r instanceof Node ? r : el("tr", {}, ...r.map((v, i) => el("td", {
    text: String(v), class: numeric && numeric[i] ? "num" : "" })))))
    : [el("tr", {}, el("td", { colspan: String(headers.length), text: "暂无" }))];
  $(id).replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
}

function renderChildrenTable() {
  const rows = state.children.map((k) => el("tr", { "data-code": k.code, onclick: () => go(k.code) },
    el("td", {}, el("a", { href: `#/unit/${encodeURIComponent(k.code)}`, text: k.name })),
    ...[k.teams, k.volunteers, k.active_volunteers, k.tasks, k.hours, k.activities].map((v) => el("td", { class: "num", text: num(v) }))));
  renderTable("children", ["地区", "队伍（支）", "志愿者（人）", "近30天服务（人）", "任务（个）", "服务时长（小时）", "活动（场）"], rows,
              [false, true, true, true, true, true, true]);
}

function renderMonthsTable(months) {
  renderTable("months", ["月份", "任务（个）", "服务时长（小时）", "活动（场）", "新志愿者（人）", "受益群众（人次）"],
              months.map((m) => [`${m.month.slice(0, 4)}年${Number(m.month.slice(5))}月`, num(m.tasks), num(m.hours), num(m.activities),
                                 num(m.volunteers_new), num(m.beneficiaries)]),
              [false, true, true, true, true, true]);
}

function renderTabs() {
  $("metric-tabs").replaceChildren(...METRICS.map(([key, label, unit]) => el("button", {
    type: "button", role: "tab", "aria-selected": String(state.metric === key), "data-metric": key,
    text: `${label}（${unit}）`,
    onclick: () => { state.metric = key; renderTabs(); if (window.echarts) { renderChildrenChart(); renderMap(); } },
  })));
}

// ---------------------------------------------------------------- charts

function renderChildrenChart() {
  const box = $("children-chart");
  const [key, label, unit] = metric(state.metric);
  $("children-heading").textContent = `下级地区对比：${label}（${unit}）`;
  if (!state.children.length) {
    if (state.charts["children-chart"]) { state.charts["children-chart"].dispose(); delete state.charts["children-chart"]; }
    box.replaceChildren(el("p", { class: "note", text: "没有下级地区。" }));
    box.style.height = "auto";
    return;
  }
  // Largest first; every child is shown (the chart grows), none is cut off.
  const kids = [...state.children].sort((a, b) => Number(b[key] || 0) - Number(a[key] || 0));
  box.style.height = `${Math.max(160, kids.length * 30 + 70)}px`;
  if (!state.charts["children-chart"]) box.replaceChildren();
  const c = chart("children-chart");
  c.resize();
  c.setOption({
    animation: false,
    legend: { data: [`${label}（${unit}）`], top: 0 },
    grid: { left: 8, right: 48, top: 28, bottom: 28, containLabel: true },
    tooltip: { ...TOOLTIP, trigger: "item",
               formatter: (p) => tip(kids[p.dataIndex].name, `${label}：${num(p.value)} ${unit}`, "点击查看该地区") },
    xAxis: { type: "value", name: unit, nameLocation: "end", minInterval: key === "hours" ? 0 : 1,
             axisLabel: { fontSize: 11 } },
    yAxis: { type: "category", inverse: true, data: kids.map((k) => shortName(k.name)),
             axisLabel: { fontSize: 12, width: 96, overflow: "truncate" } },
    series: [{ type: "bar", name: `${label}（${unit}）`, data: kids.map((k) => Number(k[key] || 0)), itemStyle: { color: "#3b7dd8" },
               label: { show: true, position: "right", fontSize: 11, formatter: (p) => num(p.value) }, barMaxWidth: 22 }],
  }, true);
  c.off("click");
  c.on("click", (p) => go(kids[p.dataIndex].code));
}

function renderMonths(months) {
  const labels = months.map((m, i, all) => monthLabel(m.month, i, all));
  const full = (i) => `${months[i].month.slice(0, 4)}年${Number(months[i].month.slice(5))}月`;
  const c = chart("months-chart");
  c.resize();
  const narrow = $("months-chart").clientWidth < 640; // twelve labels fit a phone only slanted
  c.setOption({
    animation: false,
    legend: { data: ["任务（个）", "服务时长（小时）"], top: 0 },
    tooltip: { ...TOOLTIP, trigger: "axis",
               formatter: (ps) => tip(full(ps[0].dataIndex), `任务：${num(months[ps[0].dataIndex].tasks)} 个`,
                                      `服务时长：${num(months[ps[0].dataIndex].hours)} 小时`) },
    axisPointer: { link: [{ xAxisIndex: "all" }] },
    grid: [{ left: 8, right: 12, top: 64, height: 96, containLabel: true },
           { left: 8, right: 12, top: 200, height: 96, containLabel: true }],
    xAxis: [{ type: "category", gridIndex: 0, data: labels, axisLabel: { show: false } },
            { type: "category", gridIndex: 1, data: labels, axisLabel: { interval: 0, fontSize: 10, rotate: narrow ? 45 : 0 } }],
    yAxis: [{ type: "value", gridIndex: 0, name: "任务（个）", minInterval: 1, nameTextStyle: { align: "left" } },
            { type: "value", gridIndex: 1, name: "服务时长（小时）", nameTextStyle: { align: "left" } }],
    series: [{ type: "bar", name: "任务（个）", xAxisIndex: 0, yAxisIndex: 0, data: months.map((m) => m.tasks),
               itemStyle: { color: "#e0803a" }, barMaxWidth: 18 },
             { type: "line", name: "服务时长（小时）", xAxisIndex: 1, yAxisIndex: 1, data: months.map((m) => m.hours),
               itemStyle: { color: "#3aa76d" }, symbolSize: 6 }],
  }, true);
}

function renderMap() {
  const data = state.map;
  const box = $("map");
  if (!data || !data.available || !window.echarts) {
    box.hidden = true;
    document.body.dataset.map = "none";
    return;
  }
  box.hidden = false;
  const [key, label, unit] = metric(state.metric);
  const name = `unit-${state.selected}`;
  window.echarts.registerMap(name, data.geo);
  const regions = data.regions;
  const values = regions.filter((r) => r.values).map((r) => r.values[key]);
  const max = Math.max(1, ...values);
  // The scale spans the figures shown, so close figures still differ in colour; one region alone starts at 0.
  const low = values.length > 1 ? Math.min(...values) : 0;
  const min = low === max ? 0 : low;
  const c = chart("map");
  c.resize();
  c.setOption({
    animation: false,
    title: { text: `${label}（${unit}）`, left: 0, top: 0, textStyle: { fontSize: 13, fontWeight: "normal" } },
    tooltip: { ...TOOLTIP, trigger: "item", formatter: (p) => {
      const r = regions[p.dataIndex];
      if (!r || !r.values) return tip(p.name, "不在本辖区或尚未开通");
      return tip(r.unit_name || p.name, `${label}：${num(r.values[key])} ${unit}`,
                 r.focus ? "即本单位" : "点击查看该地区");
    } },
    // A county's map is one coloured shape (where it lies): no scale to read.
    visualMap: { show: data.kind !== "county", type: "continuous", min, max, calculable: false, orient: "horizontal", left: "center", bottom: 0,
                 itemWidth: 12, itemHeight: 140, text: [`${num(max)} ${unit}`, `${num(min)} ${unit}`], inRange: { color: RED },
                 seriesIndex: 0, formatter: (v) => `${num(v)} ${unit}` },
    series: [{
      // layoutCenter/layoutSize keep the shapes' proportions whatever the box.
      type: "map", map: name, roam: false, selectedMode: false, layoutCenter: ["50%", "48%"], layoutSize: "86%",
      itemStyle: { areaColor: "#e9ecef", borderColor: "#fff", borderWidth: 1 },
      emphasis: { label: { show: true }, itemStyle: { areaColor: "#ffd54f" } },
      label: { show: false, fontSize: 11, color: "#222", textBorderColor: "#fff", textBorderWidth: 2 },
      data: regions.map((r) => r.values
        ? { name: r.name, value: r.values[key], label: { show: true, formatter: shortName(r.unit_name || r.name) },
            itemStyle: r.focus ? { borderColor: "#222", borderWidth: 2 } : undefined }
        : { name: r.name, value: null, itemStyle: { areaColor: "#e9ecef" }, label: { show: false } }),
    }],
  }, true);
  c.off("click");
  c.on("click", (p) => {
    const r = regions[p.dataIndex];
    if (r && r.code && r.code !== state.selected) go(r.code);
  });
  document.body.dataset.map = "shown";
}

function renderMapNote() {
  const data = state.map;
  const lines = [];
  if (!window.echarts) lines.push("地图组件（ECharts）没有安装：在服务器上运行 make 即可安装。下面以表格显示。");
  else if (data && data.note) lines.push(data.note);
  if (data && data.unmapped && data.unmapped.length && data.available && data.kind !== "county") {
    lines.push(`没有边界数据的下级单位：${data.unmapped.map((u) => shortName(u.name)).join("、")}。`);
  }
  $("map-note").textContent = lines.join(" ");
  $("map-heading").textContent = data && data.kind === "county" ? "地图：本县（市、区）的位置" : "地图：下级地区";
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("content").hidden = true;
}

async function select(code) {
  const seq = ++state.seq; // a later click wins over an answer still on its way
  let data;
  try {
    data = await api(`/api/units/${encodeURIComponent(code)}`);
  } catch (error) {
    if (seq === state.seq) showError(error.status === 403 ? "无权查看该地区：它不在您的管辖范围内。" : error.message);
    return;
  }
  if (seq !== state.seq) return;
  $("error").hidden = true;
  $("content").hidden = false;
  state.selected = code;
  state.children = data.children;
  state.unit = data.unit;
  const u = data.unit;
  $("title").textContent = `${u.name}（${LEVEL[u.level] || u.level}）`;
  $("title").dataset.code = u.code;
  $("trail").replaceChildren(...data.trail.map((t) => el("li", {}, el("a", { href: `#/unit/${encodeURIComponent(t.code)}`, text: t.name }))));
  renderCards(u);
  renderTabs();
  renderChildrenTable();
  renderMonthsTable(u.months);
  const [charts, drawn] = await Promise.all([loadCharts(), api(`/api/units/${encodeURIComponent(code)}/map`).catch(() => null)]);
  if (seq !== state.seq) return;
  state.map = drawn;
  $("charts-note").hidden = charts;
  $("charts-note").textContent = charts ? "" : "图表组件（ECharts）没有安装：在服务器上运行 make 即可安装。以下以表格显示。";
  for (const id of ["children-chart", "months-chart"]) $(id).hidden = !charts;
  if (charts) { renderChildrenChart(); renderMonths(u.months); }
  renderMap();
  renderMapNote();
  for (const t of data.trail.slice(0, -1)) await expand(t.code);
  fillChildren(code, data.children);
  await expand(code); // the selected region's children show in the tree too
  markSelected(code);
  const latest = await api(`/api/units/${encodeURIComponent(code)}/latest`);
  if (seq !== state.seq) return;
  renderTable("tasks", ["任务号", "时间", "村/社区", "类别", "状态"],
              latest.tasks.map((t) => [`#${t.id}`, t.created, t.unit, t.category + (t.urgent ? "（急）" : ""), t.status]));
  renderTable("activities", ["活动", "队伍", "开始", "报名", "状态"],
              latest.activities.map((a) => [a.title, a.team, a.starts, a.capacity ? `${a.signed}/${a.capacity}` : String(a.signed), a.status]));
  document.body.dataset.ready = code;
}

function route() {
  const match = location.hash.match(/^#\/unit\/(.+)$/);
  select(match ? decodeURIComponent(match[1]) : state.scope.code);
}

async function start() {
  $("menu").addEventListener("click", () => (document.body.classList.contains("drawer-open") ? closeDrawer() : openDrawer()));
  $("scrim").addEventListener("click", closeDrawer);
  window.addEventListener("resize", () => { for (const c of Object.values(state.charts)) c.resize(); });
  let me;
  try {
    me = await api("/api/me");
  } catch (error) {
    showError(error.status === 401 ? "请先登录：在聊天中给机器人发送「后台」，用收到的链接打开。" : error.message);
    return;
  }
  state.scope = me.scope;
  $("who").textContent = `${me.name} · ${me.scope.name}`;
  $("tree").replaceChildren(el("ul", {}, treeNode(me.scope)));
  window.addEventListener("hashchange", route);
  route();
}

document.addEventListener("DOMContentLoaded", start);
