-- Argo CD health of entra-match-operator resources (every kind: UserMatch,
-- UserMatchSet, TenantSyncFeatures, EntraTenant, ActiveDirectory, SyncPlan,
-- SignInNameAlignment). The same reading as kstatus, which Flux uses:
--   Progressing while it is being deleted (the operator's finalizer runs),
--   Progressing while the operator has not observed the latest spec,
--   Degraded while Stalled is True (the operator waits for a person),
--   Healthy when Ready is True, Progressing otherwise.
local hs = {}
if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion: the operator is finalizing it"
  return hs
end
if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
if obj.metadata.generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < obj.metadata.generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" then
      hs.status = "Degraded"
      hs.message = c.reason .. ": " .. (c.message or "")
      return hs
    end
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      if c.status == "True" then
        hs.status = "Healthy"
      else
        hs.status = "Progressing"
      end
      hs.message = c.reason .. ": " .. (c.message or "")
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
