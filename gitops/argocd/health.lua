-- Argo CD resource health for cloudrecording.io/CloudRecording.
--
-- Install it in argocd-cm under the key
--   resource.customizations.health.cloudrecording.io_CloudRecording
-- (see gitops/argocd/argocd-cm.yaml). Argo CD runs this chunk with the live
-- object in the global `obj` and reads the table it returns.
--
--   Pending, Queued, Connecting, Stopping, Uploading -> Progressing
--   Recording, Completed, Released            -> Healthy
--   Failed                                    -> Degraded
--   Paused, or Pending paused before it started (Ready True, reason Paused) -> Suspended
--   Completed, but Verified False (files missing or changed in the bucket) -> Degraded
--   status older than the spec (observedGeneration < generation) -> Progressing
local hs = { status = "Progressing", message = "Waiting for the operator to observe the recording" }

local status = obj.status
if status == nil then
  return hs
end

local generation = (obj.metadata or {}).generation
local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = nil
local verified = nil
for _, condition in ipairs(status.conditions or {}) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Verified" then
    verified = condition
  end
end

local function describe(default)
  if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
    return ready.message
  end
  if status.lastError ~= nil and status.lastError.message ~= nil then
    return status.lastError.message
  end
  return default
end

local phase = status.phase or "Pending"
if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = describe("The recording failed")
elseif phase == "Recording" then
  if ready ~= nil and ready.status == "False" then
    hs.status = "Degraded"
    hs.message = describe("The recording is not ready")
  else
    hs.status = "Healthy"
    hs.message = describe("Recording")
  end
elseif phase == "Paused" or (phase == "Pending" and ready ~= nil and ready.status == "True" and ready.reason == "Paused") then
  hs.status = "Suspended"
  hs.message = describe("The recording is paused")
elseif phase == "Completed" and verified ~= nil and verified.status == "False" then
  hs.status = "Degraded"
  hs.message = verified.message or "The bucket does not hold the files the recording made"
elseif phase == "Completed" then
  hs.status = "Healthy"
  hs.message = describe("The recording is complete and its files are uploaded")
elseif phase == "Released" then
  hs.status = "Healthy"
  hs.message = describe("The recording was released")
else
  hs.status = "Progressing"
  hs.message = describe(phase)
end
return hs
