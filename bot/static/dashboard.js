// 新风 · 数据地图: the region tree, drill-down, charts (inline SVG) and latest lists, from /api/.
// No framework, no CDN: every element is built with textContent, so no data is ever parsed as HTML.
"use strict";

const LEVEL = { province: "省", city: "市", center: "中心", institute: "所", station: "站", point: "点" };
const TASK_STATUS = { submitted: "待派单", dispatched: "待接单", accepted: "已接单", completed: "待评价",
                      closed: "已完成", cancelled: "已取消" };
const METRICS = [["volunteers", "志愿者"], ["tasks", "任务"], ["hours", "服务时长"], ["activities", "活动"]];
const SVG = "http://www.w3.org/2000/svg";

const state = { scope: null, selected: null, metric: "volunteers", children: [], nodes: new Map(), seq: 0 };

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

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
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

function duration(minutes) {
  if (minutes === null || minutes === undefined) return "暂无";
  if (minutes < 60) return `${minutes} 分钟`;
  if (minutes < 1440) return `${Math.floor(minutes / 60)} 小时${minutes % 60 ? ` ${minutes % 60} 分钟` : ""}`;
  return `${Math.floor(minutes / 1440)} 天 ${Math.floor((minutes % 1440) / 60)} 小时`;
}

// "蓬莱社区新时代文明实践站" → "蓬莱社区": what fits beside a bar.
function shortName(name) { return name.replace(/(新时代)?(文明实践)?(中心|所|站|点)$/, "") || name; }

function go(code) { location.hash = `#/unit/${encodeURIComponent(code)}`; }

// ---------------------------------------------------------------- the tree

function treeNode(item) {
  const link = el("a", { href: `#/unit/${encodeURIComponent(item.code)}`, "data-code": item.code, text: item.name });
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

// ---------------------------------------------------------------- the selected unit

function card(label, value, note) {
  return el("div", { class: "card" }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }),
            el("div", { class: "note", text: note || "" }));
}

function renderCards(u) {
  const below = Object.entries(u.units).map(([lv, n]) => `${LEVEL[lv] || lv} ${n}`).join("，") || "无";
  const tasks = Object.entries(u.tasks_by_status).filter(([, n]) => n).map(([s, n]) => `${TASK_STATUS[s] || s} ${n}`);
  const wishes = Object.values(u.wishes_by_status).reduce((a, b) => a + b, 0);
  $("cards").replaceChildren(
    card("下辖单位", String(Object.values(u.units).reduce((a, b) => a + b, 0)), below),
    card("志愿服务队伍", num(u.teams), "支"),
    card("志愿者", num(u.volunteers), `近30天服务过 ${num(u.active_volunteers)} 人`),
    card("项目", num(u.projects), "个"),
    card("活动", num(u.activities), "场（不含取消）"),
    card("任务", num(u.tasks), tasks.join("，")),
    card("接单用时中位数", duration(u.median_accept_minutes), "从点单到接单"),
    card("服务时长", num(u.hours), "小时（已核定）"),
    card("受益群众", num(u.beneficiaries), "人次"),
    card("微心愿", num(wishes), `结对帮扶 ${num(u.pairings)} 户，走访 ${num(u.pairing_visits)} 次`),
  );
}

function renderChildrenChart() {
  const kids = state.children;
  const box = $("children-chart");
  if (!kids.length) { box.replaceChildren(el("p", { text: "没有下级地区。" })); return; }
  const rowH = 26, left = 150, width = 720;
  const max = Math.max(1, ...kids.map((k) => Number(k[state.metric] || 0)));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${kids.length * rowH + 10}`, role: "img",
                             "aria-label": "下级地区对比" });
  kids.forEach((k, i) => {
    const value = Number(k[state.metric] || 0);
    const y = 5 + i * rowH;
    const w = Math.max(1, ((width - left - 80) * value) / max);
    chart.append(svg("text", { x: left - 6, y: y + 16, "text-anchor": "end" }, shortName(k.name)));
    const bar = svg("rect", { class: "bar", x: left, y: y + 3, width: w, height: rowH - 8, "data-code": k.code });
    bar.append(svg("title", {}, `${k.name}：${num(value)}`));
    bar.addEventListener("click", () => go(k.code));
    chart.append(bar, svg("text", { x: left + w + 6, y: y + 16 }, num(value)));
  });
  box.replaceChildren(chart);
}

function renderTabs() {
  $("metric-tabs").replaceChildren(...METRICS.map(([key, label]) => el("button", {
    type: "button", role: "tab", "aria-selected": String(state.metric === key), text: label,
    onclick: () => { state.metric = key; renderTabs(); renderChildrenChart(); },
  })));
}

function renderChildrenTable() {
  const head = el("tr", {}, ...["地区", "队伍", "志愿者", "近30天服务", "任务", "服务时长", "活动"].map((t) => el("th", { text: t })));
  const rows = state.children.map((k) => el("tr", { "data-code": k.code, onclick: () => go(k.code) },
    el("td", {}, el("a", { href: `#/unit/${encodeURIComponent(k.code)}`, text: k.name })),
    ...[k.teams, k.volunteers, k.active_volunteers, k.tasks, k.hours, k.activities].map((v) => el("td", { text: num(v) }))));
  $("children").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
}

function renderMonths(months) {
  const width = 720, height = 220, left = 40, right = 50, bottom = 30, top = 10;
  const plotW = width - left - right, plotH = height - top - bottom;
  const maxT = Math.max(1, ...months.map((m) => m.tasks));
  const maxH = Math.max(1, ...months.map((m) => m.hours));
  const step = plotW / Math.max(1, months.length);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "近十二个月" });
  const points = [];
  months.forEach((m, i) => {
    const x = left + i * step;
    const h = (plotH * m.tasks) / maxT;
    const bar = svg("rect", { class: "tasks", x: x + step * 0.15, y: top + plotH - h, width: step * 0.7, height: h });
    bar.append(svg("title", {}, `${m.month}：任务 ${m.tasks} 个，服务 ${num(m.hours)} 小时`));
    chart.append(bar, svg("text", { x: x + step / 2, y: height - 10, "text-anchor": "middle" }, `${Number(m.month.slice(5))}月`));
    const py = top + plotH - (plotH * m.hours) / maxH;
    points.push(`${x + step / 2},${py}`);
    chart.append(svg("circle", { class: "dot", cx: x + step / 2, cy: py, r: 3 }));
  });
  chart.append(svg("polyline", { class: "hours", points: points.join(" ") }));
  chart.append(svg("text", { x: 4, y: top + 10 }, `任务 ${maxT}`), svg("text", { x: width - 4, y: top + 10, "text-anchor": "end" }, `时长 ${num(maxH)}`));
  $("months-chart").replaceChildren(chart);
}

function renderTable(id, headers, rows) {
  const head = el("tr", {}, ...headers.map((t) => el("th", { text: t })));
  const body = rows.length ? rows.map((r) => el("tr", {}, ...r.map((v) => el("td", { text: String(v) }))))
    : [el("tr", {}, el("td", { colspan: String(headers.length), text: "暂无" }))];
  $(id).replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
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
  const u = data.unit;
  $("title").textContent = `${u.name}（${LEVEL[u.level] || u.level}）`;
  $("title").dataset.code = u.code;
  $("trail").replaceChildren(...data.trail.map((t) => el("li", {}, el("a", { href: `#/unit/${encodeURIComponent(t.code)}`, text: t.name }))));
  renderCards(u);
  renderTabs();
  renderChildrenChart();
  renderChildrenTable();
  renderMonths(u.months);
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
