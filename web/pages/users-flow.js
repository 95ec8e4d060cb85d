// Behaviour › Users flow: the visits' paths step by step
// (UsersFlow.getUsersFlowPretty with expanded=1, docs/users-flow.md). Each
// step is a column of its actions, each a bar as long as its share of the
// first step's visits, with how many proceeded and exited; the next actions
// are listed under it. Labels are tracked URLs or titles: text only.
import { html, useApi, Async, Section } from '../components/ui.js';
import { ViewSelect } from './conversions.js';
import { useViewContext, reportParams } from '../lib/context.js';
import { formatNumber } from '../lib/format.js';

const DATA_SOURCES = [['page_url', 'Page URLs'], ['page_title', 'Page titles']];
const ACTIONS_PER_STEP = ['5', '10', '20'];

function share(part, whole) {
  return whole ? `${Math.round((part / whole) * 100)}%` : '0%';
}

function FlowAction({ action, widest }) {
  const next = Array.isArray(action.subtable) ? action.subtable : [];
  const grouped = action.nb_pages_in_group ? ` (${formatNumber(action.nb_pages_in_group)} actions)` : '';
  return html`<li class="flow-action">
    <span class="text">${action.label}</span>${grouped}
    <span class="bar" style=${{ width: share(action.nb_visits, widest) }}></span>
    <span class="flow-numbers"><span class="visits">${formatNumber(action.nb_visits)}</span> visits${' · '}${formatNumber(action.nb_proceeded)} proceeded${' · '}${formatNumber(action.nb_exits)} exits</span>
    ${next.length > 0 && html`<details><summary>Next actions</summary><ul>
      ${next.map((n, i) => html`<li key=${i}><span class="text">${n.label}</span> <span class="num">${formatNumber(n.nb_visits)}</span></li>`)}
    </ul></details>`}
  </li>`;
}

function FlowStep({ step, widest }) {
  const actions = Array.isArray(step.subtable) ? step.subtable : [];
  return html`<section class="flow-step" aria-label=${step.label}>
    <h3>${step.label}</h3>
    <p class="flow-totals"><span class="visits">${formatNumber(step.nb_visits)}</span> visits${' · '}${formatNumber(step.nb_proceeded)} proceeded${' · '}${formatNumber(step.nb_exits)} exits (${step.exit_rate})</p>
    <ol>${actions.map((a, i) => html`<${FlowAction} key=${i} action=${a} widest=${widest} />`)}</ol>
  </section>`;
}

export function UsersFlow() {
  const { view } = useViewContext();
  const dataSource = view.dataSource || 'page_url';
  const actionsPerStep = view.actionsPerStep || '5';
  const flow = useApi('UsersFlow.getUsersFlowPretty', {
    ...reportParams(view, { compare: false }), dataSource, limitActionsPerStep: actionsPerStep, expanded: 1,
  });
  return html`<div class="filters">
      <${ViewSelect} label="Actions by" name="dataSource" value=${dataSource} options=${DATA_SOURCES} />
      <${ViewSelect} label="Actions per step" name="actionsPerStep" value=${actionsPerStep}
        options=${ACTIONS_PER_STEP.map((n) => [n, n])} />
    </div>
    <${Section} title="Steps of the visits">
      <${Async} result=${flow} empty=${(steps) => !steps.length}>${(steps) => html`
        <div class="flow" data-method="UsersFlow.getUsersFlowPretty" aria-busy=${flow.loading}>
          ${steps.map((step) => html`<${FlowStep} key=${step.label} step=${step} widest=${steps[0].nb_visits} />`)}
        </div>`}<//>
    <//>`;
}
