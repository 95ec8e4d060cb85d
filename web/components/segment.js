// The segment bar: the segment in use, saved segments of the site
// (SegmentEditor.*), and an editor that builds a segment from the dimensions
// of API.getSegmentsMetadata, or takes the segment string as typed.
import { useState } from 'preact/hooks';
import { html, useApi, ErrorBox } from './ui.js';
import { api } from '../lib/api.js';
import { navigate } from '../lib/route.js';

const TEXT_OPERATORS = [['==', 'is'], ['!=', 'is not'], ['=@', 'contains'], ['!@', 'does not contain'],
  ['=^', 'starts with'], ['=$', 'ends with']];
const NUMBER_OPERATORS = [['==', '='], ['!=', '≠'], ['<', '<'], ['<=', '≤'], ['>', '>'], ['>=', '≥']];
const OPERATOR_PATTERN = /^([A-Za-z0-9_]+)(==|!=|<=|>=|=@|!@|=\^|=\$|<|>)(.*)$/s;

// Splits at separators not escaped with a backslash.
function splitUnescaped(text, separator) {
  const parts = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) { current += text[i] + text[i + 1]; i++; continue; }
    if (text[i] === separator) { parts.push(current); current = ''; continue; }
    current += text[i];
  }
  parts.push(current);
  return parts;
}

function decodeValue(value) {
  try { return decodeURIComponent(value.replace(/\\(.)/g, '$1')); } catch { return value; }
}

// "a==1,b==2;c==3" to [[{dimension, operator, value}...] ...] (AND of ORs).
export function parseSegment(segment) {
  if (!segment) return [];
  return splitUnescaped(segment, ';').map((group) => splitUnescaped(group, ',').map((condition) => {
    const m = OPERATOR_PATTERN.exec(condition);
    return m ? { dimension: m[1], operator: m[2], value: decodeValue(m[3]) }
      : { dimension: '', operator: '==', value: condition };
  }));
}

export function segmentString(groups) {
  return groups.map((group) => group.filter((c) => c.dimension)
    .map((c) => c.dimension + c.operator + encodeURIComponent(c.value)).join(','))
    .filter(Boolean).join(';');
}

function Condition({ condition, dimensions, update, remove }) {
  const meta = dimensions.find((d) => d.segment === condition.dimension);
  const operators = meta && meta.valueType === 'number' ? NUMBER_OPERATORS : TEXT_OPERATORS;
  const categories = [...new Set(dimensions.map((d) => d.category))];
  return html`<div class="condition">
    <label><span class="visually-hidden">Dimension</span>
      <select value=${condition.dimension} onChange=${(e) => update({ dimension: e.target.value })}>
        <option value="">Dimension…</option>
        ${categories.map((cat) => html`<optgroup label=${cat}>
          ${dimensions.filter((d) => d.category === cat).map((d) => html`<option value=${d.segment}>${d.name}</option>`)}
        </optgroup>`)}
      </select></label>
    <label><span class="visually-hidden">Operator</span>
      <select value=${condition.operator} onChange=${(e) => update({ operator: e.target.value })}>
        ${operators.map(([op, name]) => html`<option value=${op}>${name}</option>`)}
      </select></label>
    <label><span class="visually-hidden">Value</span>
      <input value=${condition.value} onInput=${(e) => update({ value: e.target.value })} placeholder="value" /></label>
    <button type="button" class="link" onClick=${remove} aria-label="Remove condition">remove</button>
  </div>`;
}

function SegmentEditor({ view, close, saved }) {
  const metadata = useApi('API.getSegmentsMetadata', { idSite: view.site });
  const [groups, setGroups] = useState(() => {
    const parsed = parseSegment(view.segment);
    return parsed.length ? parsed : [[{ dimension: '', operator: '==', value: '' }]];
  });
  const [typed, setTyped] = useState(null);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [problem, setProblem] = useState(null);
  const definition = typed ?? segmentString(groups);
  const dimensions = Array.isArray(metadata.data) ? metadata.data : [];
  const setCondition = (g, c, patch) => {
    setTyped(null);
    setGroups(groups.map((group, gi) => gi !== g ? group
      : group.map((cond, ci) => ci === c ? { ...cond, ...patch } : cond)));
  };
  const removeCondition = (g, c) => {
    const next = groups.map((group, gi) => gi !== g ? group : group.filter((_, ci) => ci !== c))
      .filter((group) => group.length);
    setGroups(next.length ? next : [[{ dimension: '', operator: '==', value: '' }]]);
  };
  const apply = () => { navigate(view, { segment: definition || null }); close(); };
  const save = async () => {
    setProblem(null);
    try {
      await api('SegmentEditor.add', { name, definition, idSite: view.site, enable_all_users: shared ? 1 : 0 });
      saved.reload();
      apply();
    } catch (err) { setProblem(err); }
  };
  return html`<div class="segment-editor" role="dialog" aria-label="Segment editor">
    ${metadata.error && html`<${ErrorBox} error=${metadata.error} title="Dimensions could not be loaded" />`}
    ${groups.map((group, g) => html`<fieldset class="group">
      <legend>${g === 0 ? 'Visits where' : 'and'}</legend>
      ${group.map((condition, c) => html`${c > 0 && html`<span class="or">or</span>`}
        <${Condition} condition=${condition} dimensions=${dimensions}
          update=${(patch) => setCondition(g, c, patch)} remove=${() => removeCondition(g, c)} />`)}
      <button type="button" class="link" onClick=${() => setGroups(groups.map((gr, gi) => gi === g
        ? [...gr, { dimension: '', operator: '==', value: '' }] : gr))}>+ or</button>
    </fieldset>`)}
    <button type="button" class="link" onClick=${() => setGroups([...groups, [{ dimension: '', operator: '==', value: '' }]])}>+ and</button>
    <label class="typed">Segment string
      <input value=${definition} onInput=${(e) => setTyped(e.target.value)} spellcheck="false" /></label>
    <div class="actions">
      <button type="button" onClick=${apply}>Apply</button>
      <button type="button" onClick=${close}>Cancel</button>
      <label>Save as <input value=${name} onInput=${(e) => setName(e.target.value)} placeholder="name" /></label>
      <label class="check"><input type="checkbox" checked=${shared} onChange=${(e) => setShared(e.target.checked)} /> for all users</label>
      <button type="button" onClick=${save} disabled=${!name || !definition}>Save and apply</button>
    </div>
    ${problem && html`<${ErrorBox} error=${problem} title="Not saved" />`}
  </div>`;
}

export function SegmentBar({ view }) {
  const [editing, setEditing] = useState(false);
  const saved = useApi('SegmentEditor.getAll', { idSite: view.site });
  const list = Array.isArray(saved.data) ? saved.data : [];
  const current = list.find((s) => s.definition === view.segment);
  const remove = async () => {
    if (current && confirm(`Delete the saved segment "${current.name}"?`)) {
      await api('SegmentEditor.delete', { idSegment: current.idsegment }).catch((err) => alert(err.message));
      saved.reload();
    }
  };
  return html`<div class="segment-bar">
    <label>Segment <select value=${view.segment || ''}
      onChange=${(e) => navigate(view, { segment: e.target.value || null })}>
      <option value="">All visits</option>
      ${list.map((s) => html`<option value=${s.definition}>${s.name}</option>`)}
      ${view.segment && !current && html`<option value=${view.segment}>${view.segment}</option>`}
    </select></label>
    <button type="button" onClick=${() => setEditing(!editing)} aria-expanded=${editing}>
      ${view.segment ? 'Edit segment' : 'Add segment'}</button>
    ${current && html`<button type="button" class="link" onClick=${remove}>delete saved</button>`}
    ${saved.error && html`<span class="muted" title=${saved.error.message}>Saved segments unavailable: ${saved.error.message}</span>`}
    ${editing && html`<${SegmentEditor} view=${view} saved=${saved} close=${() => setEditing(false)} />`}
  </div>`;
}
