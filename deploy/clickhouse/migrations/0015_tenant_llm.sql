-- LLM triage, per tenant: whether its anomalies are triaged by the deployment's LLM, its
-- daily token budget, what an `expected` verdict does to an alert, which labels are never
-- sent, and whether series are profiled. One JSON column (libs/tenancy tenant.ts
-- TenantLlmSettings: {"triage":true,"expectedPolicy":"downgrade","redactLabels":[],...}),
-- as `limits` is, so that adding a setting needs no migration. '' (tenants made before this
-- migration) reads as the defaults: triage off.
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS llm String DEFAULT '';
