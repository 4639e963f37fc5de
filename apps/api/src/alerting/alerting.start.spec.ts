import { ChartLinkSigner, FeedbackLinkSigner, IncidentTracker, type ObservedAnomaly } from '@seismo/alerting';
import { parseTenantId } from '@seismo/storage';
import { alertLinks } from './alerting.start';

const ACME = parseTenantId('acme');
const ADMIN = 'admin-token-0123456789';
const NOW = Date.now();

function anomaly(id: string, series: string): ObservedAnomaly {
  return {
    tenantId: ACME,
    id,
    series,
    ts: NOW,
    value: 400,
    score: 0.95,
    severity: 'critical',
    detectors: ['ensemble'],
  };
}

describe('alertLinks', () => {
  it('makes no links without a public URL or the admin token', () => {
    expect(alertLinks(undefined, ADMIN)).toBeUndefined();
    expect(alertLinks('https://seismo.example', undefined)).toBeUndefined();
  });

  it("gives the tracker's notifications a chart link and feedback links on the incident's latest anomaly", () => {
    const linksFor = alertLinks('https://seismo.example/base', ADMIN)!;
    const tracker = new IncidentTracker({ linksFor });
    const [opened] = tracker.observe(anomaly('an_1', 'cpu{host="a"}'), NOW);
    const [updated] = tracker.observe(anomaly('an_2', 'mem{host="a"}'), NOW + 1000);
    const signer = new FeedbackLinkSigner(ADMIN);
    const claimOf = (link: string) => {
      expect(link).toMatch(/^https:\/\/seismo\.example\/base\/v1\/feedback\/[\w-]+\.[\w-]+$/);
      const { tenantId, anomalyId, label } = signer.verify(link.slice(link.lastIndexOf('/') + 1));
      return { tenantId, anomalyId, label };
    };

    const chartOf = (link: string) => {
      expect(link).toMatch(/^https:\/\/seismo\.example\/base\/v1\/charts\/[\w-]+\.[\w-]+$/);
      const { tenantId, series, at } = new ChartLinkSigner(ADMIN).verify(
        link.slice(link.lastIndexOf('/') + 1),
      );
      return { tenantId, series, at };
    };
    expect(chartOf(opened.links.series!)).toEqual({ tenantId: ACME, series: 'cpu{host="a"}', at: NOW });
    expect(chartOf(updated.links.series!)).toEqual({ tenantId: ACME, series: 'mem{host="a"}', at: NOW });
    expect(claimOf(opened.links.feedback!.falsePositive)).toEqual({
      tenantId: ACME,
      anomalyId: 'an_1',
      label: 'false_positive',
    });
    expect(claimOf(opened.links.feedback!.truePositive).label).toBe('true_positive');
    expect(claimOf(opened.links.feedback!.expected).label).toBe('expected');
    // A series joining the incident is what it is about now.
    expect(updated.state).toBe('updated');
    expect(claimOf(updated.links.feedback!.expected)).toEqual({
      tenantId: ACME,
      anomalyId: 'an_2',
      label: 'expected',
    });
  });

  it('signs links that another deployment (another admin token) refuses', () => {
    const [opened] = new IncidentTracker({ linksFor: alertLinks('https://seismo.example', ADMIN)! }).observe(
      anomaly('an_1', 'cpu{host="a"}'),
      NOW,
    );
    const token = opened.links.feedback!.falsePositive.split('/').pop()!;
    expect(() => new FeedbackLinkSigner('another-admin-token-000').verify(token)).toThrow(
      expect.objectContaining({ code: 'INVALID_FEEDBACK_TOKEN' }),
    );
    const chart = opened.links.series!.split('/').pop()!;
    expect(() => new ChartLinkSigner('another-admin-token-000').verify(chart)).toThrow(
      expect.objectContaining({ code: 'INVALID_CHART_TOKEN' }),
    );
    // A token of one kind of link opens no other kind.
    expect(() => new ChartLinkSigner(ADMIN).verify(token)).toThrow(
      expect.objectContaining({ code: 'INVALID_CHART_TOKEN' }),
    );
  });
});
