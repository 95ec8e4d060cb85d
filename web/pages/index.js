// Every page of the dashboard, in menu order. Most pages are only a list of
// reports (a method, a title, extra parameters, the columns to show); the
// few that need more have a component of their own.
import { html, Section } from '../components/ui.js';
import { ReportTable } from '../components/table.js';
import { WorldMap } from '../components/map.js';
import { Overview, Realtime, VisitorLog, VisitorProfile, VisitorTypes } from './visitors.js';
import { GoalsOverview, Ecommerce, Funnels, Attribution, Transitions, Cohorts } from './conversions.js';
import { UsersFlow } from './users-flow.js';
import { SitesSettings, GoalsSettings, FunnelsSettings, UsersSettings, TrackingCode } from './settings.js';

const VISITS = ['nb_visits', 'nb_uniq_visitors', 'nb_actions', 'nb_visits_converted'];
const PAGES = ['nb_hits', 'nb_visits', 'nb_uniq_visitors', 'avg_time_on_page', 'bounce_rate', 'exit_rate'];
const ENTRIES = ['entry_nb_visits', 'entry_nb_actions', 'entry_bounce_count', 'bounce_rate'];
const EXITS = ['exit_nb_visits', 'nb_visits', 'exit_rate'];
const FIXED_SCALE = { searchable: false, limit: 100 };

function ReportsPage({ page }) {
  return page.reports.map((spec) => html`<${Section} key=${spec.method + (spec.title || '')} title=${spec.title}>
    <${ReportTable} spec=${spec} />
  <//>`);
}

// The countries on a world map beside their table, then the page's reports.
function Locations({ page }) {
  return html`<${Section} title="Countries">
      <div class="locations">
        <${WorldMap} />
        <${ReportTable} spec=${byVisits('UserCountry.getCountry', 'Countries')} />
      </div>
    <//>
    <${ReportsPage} page=${page} />`;
}

// A report grouped by visits, with the visit columns.
function byVisits(method, title, extra = {}) {
  return { method, title, columns: VISITS, ...extra };
}

// A page made of report tables.
function reports(id, title, specs) {
  return { id, title, component: ReportsPage, reports: specs };
}

export const SECTIONS = [
  { title: 'Visitors', pages: [
    { id: 'visitors-overview', title: 'Overview', component: Overview },
    { id: 'visitors-realtime', title: 'Real-time', component: Realtime },
    { id: 'visitors-log', title: 'Visitor log', component: VisitorLog },
    { id: 'visitor-profile', title: 'Visitor profile', component: VisitorProfile },
    reports('visitors-users', 'User IDs', [byVisits('UserId.getUsers', 'User IDs')]),
  ] },
  { title: 'Behaviour', pages: [
    reports('behaviour-pages', 'Pages', [{ method: 'Actions.getPageUrls', title: 'Pages', columns: PAGES, flat: true, transitions: true }]),
    reports('behaviour-entry', 'Entry pages', [
      { method: 'Actions.getEntryPageUrls', title: 'Entry pages', columns: ENTRIES, flat: true, transitions: true },
      { method: 'Actions.getEntryPageTitles', title: 'Entry page titles', columns: ENTRIES, flat: true }]),
    reports('behaviour-exit', 'Exit pages', [
      { method: 'Actions.getExitPageUrls', title: 'Exit pages', columns: EXITS, flat: true, transitions: true },
      { method: 'Actions.getExitPageTitles', title: 'Exit page titles', columns: EXITS, flat: true }]),
    reports('behaviour-titles', 'Page titles', [{ method: 'Actions.getPageTitles', title: 'Page titles', columns: PAGES, flat: true }]),
    reports('behaviour-search', 'Site search', [
      { method: 'Actions.getSiteSearchKeywords', title: 'Keywords' },
      { method: 'Actions.getSiteSearchNoResultKeywords', title: 'Keywords without results' },
      { method: 'Actions.getSiteSearchCategories', title: 'Search categories' }]),
    reports('behaviour-events', 'Events', [
      { method: 'Events.getCategory', title: 'Event categories', flat: true },
      { method: 'Events.getAction', title: 'Event actions', flat: true },
      { method: 'Events.getName', title: 'Event names', flat: true }]),
    reports('behaviour-outlinks', 'Outlinks', [{ method: 'Actions.getOutlinks', title: 'Outlinks', flat: true }]),
    reports('behaviour-downloads', 'Downloads', [{ method: 'Actions.getDownloads', title: 'Downloads', flat: true }]),
    reports('behaviour-contents', 'Contents', [
      { method: 'Contents.getContentNames', title: 'Content names', flat: true },
      { method: 'Contents.getContentPieces', title: 'Content pieces', flat: true }]),
    { id: 'transitions', title: 'Transitions', component: Transitions },
    { id: 'behaviour-users-flow', title: 'Users flow', component: UsersFlow },
  ] },
  { title: 'Acquisition', pages: [
    reports('acquisition-channels', 'Channels', [byVisits('Referrers.getReferrerType', 'Channel types')]),
    reports('acquisition-referrers', 'All referrers', [
      byVisits('Referrers.getAll', 'Referrers'),
      byVisits('Referrers.getWebsites', 'Websites', { flat: true })]),
    reports('acquisition-search', 'Search engines & keywords', [
      byVisits('Referrers.getSearchEngines', 'Search engines', { flat: true }),
      byVisits('Referrers.getKeywords', 'Keywords', { flat: true })]),
    reports('acquisition-social', 'Social networks', [byVisits('Referrers.getSocials', 'Social networks', { flat: true })]),
    reports('acquisition-ai', 'AI assistants', [byVisits('Referrers.getAIAssistants', 'AI assistants', { flat: true })]),
    reports('acquisition-campaigns', 'Campaigns', [byVisits('Referrers.getCampaigns', 'Campaigns', { flat: true })]),
  ] },
  { title: 'Audience', pages: [
    reports('audience-devices', 'Devices', [
      byVisits('DevicesDetection.getType', 'Device types'),
      byVisits('DevicesDetection.getBrand', 'Device brands'),
      byVisits('DevicesDetection.getModel', 'Device models'),
      byVisits('Resolution.getResolution', 'Screen resolutions')]),
    reports('audience-software', 'Software', [
      byVisits('DevicesDetection.getBrowsers', 'Browsers'),
      byVisits('DevicesDetection.getBrowserVersions', 'Browser versions'),
      byVisits('DevicesDetection.getBrowserEngines', 'Browser engines'),
      byVisits('DevicesDetection.getOsFamilies', 'Operating systems'),
      byVisits('DevicesDetection.getOsVersions', 'Operating system versions')]),
    { id: 'audience-locations', title: 'Locations', component: Locations, reports: [
      byVisits('UserCountry.getContinent', 'Continents'),
      byVisits('UserCountry.getRegion', 'Regions'),
      byVisits('UserCountry.getCity', 'Cities')] },
    reports('audience-languages', 'Languages', [
      byVisits('UserLanguage.getLanguage', 'Languages'),
      byVisits('UserLanguage.getLanguageCode', 'Language codes')]),
    reports('audience-times', 'Times', [
      byVisits('VisitTime.getVisitInformationPerServerTime', 'Visits per hour (site time)', FIXED_SCALE),
      byVisits('VisitTime.getVisitInformationPerLocalTime', "Visits per hour (visitor's time)", FIXED_SCALE),
      byVisits('VisitTime.getByDayOfWeek', 'Visits per day of the week', FIXED_SCALE)]),
    reports('audience-engagement', 'Engagement', [
      { method: 'VisitorInterest.getNumberOfVisitsPerVisitDuration', title: 'Visits by duration', columns: ['nb_visits'], ...FIXED_SCALE },
      { method: 'VisitorInterest.getNumberOfVisitsPerPage', title: 'Visits by pages viewed', columns: ['nb_visits'], ...FIXED_SCALE },
      { method: 'VisitorInterest.getNumberOfVisitsByVisitCount', title: 'Visits by visit number', columns: ['nb_visits'], ...FIXED_SCALE },
      { method: 'VisitorInterest.getNumberOfVisitsByDaysSinceLast', title: 'Visits by days since last visit', columns: ['nb_visits'], ...FIXED_SCALE }]),
    { id: 'audience-returning', title: 'New vs returning', component: VisitorTypes },
  ] },
  { title: 'Conversions', pages: [
    { id: 'goals', title: 'Goals', component: GoalsOverview },
    { id: 'ecommerce', title: 'Ecommerce', component: Ecommerce },
    reports('customers', 'Customers', [{ method: 'Customers.get', title: 'Customers by lifecycle stage', searchable: false }]),
    { id: 'funnels', title: 'Funnels', component: Funnels },
    { id: 'attribution', title: 'Attribution', component: Attribution },
    { id: 'cohorts', title: 'Cohorts', component: Cohorts },
  ] },
  { title: 'Settings', pages: [
    { id: 'settings-sites', title: 'Sites', component: SitesSettings },
    { id: 'settings-goals', title: 'Goals', component: GoalsSettings },
    { id: 'settings-funnels', title: 'Funnels', component: FunnelsSettings },
    { id: 'settings-users', title: 'Users & tokens', component: UsersSettings },
    { id: 'settings-tracking', title: 'Tracking code', component: TrackingCode },
  ] },
];

const PAGES_BY_ID = new Map(SECTIONS.flatMap((s) => s.pages).map((p) => [p.id, p]));

function NotFound() {
  return html`<p class="error" role="alert">This page does not exist; pick one from the menu.</p>`;
}

export function pageById(id) {
  return PAGES_BY_ID.get(id) || { id, title: 'Not found', component: NotFound };
}
