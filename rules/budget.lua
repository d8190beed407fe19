-- budget.lua: grow while the model stays under a parameter budget, always
-- buying the most score per added parameter.
--
-- Each candidate's gain per parameter is (η − η_c)/Δp: how much the natural
-- score rises for each parameter the expansion adds. The best candidate with
-- a positive gain that keeps the model within the budget is applied; once no
-- candidate fits, the model stops growing.
--
-- Copy this file to make your own rule; rules/README.md has the contract.

local args = ...  -- the --rule-arg table (the same table is ctx.args in every call)

-- A setting: --rule-arg NAME=VALUE overrides its default; it must be a number.
local function setting(name, default)
  local value = args[name]
  if value == nil then return default end
  assert(type(value) == "number", ("--rule-arg %s=%s: expected a number"):format(name, tostring(value)))
  return value
end

-- Parameters the model may reach (the digits start model has 5,736; CIFAR-10's 9,024).
local BUDGET = setting("budget", 20000)
-- Epochs to wait after an expansion before scoring again.
local COOLDOWN = setting("cooldown", 3)
-- Channels a widening adds.
local WIDEN = setting("widen", 2)
-- Conv layers a block may reach.
local MAX_LAYERS = setting("max_layers", 10)

return {
  name = "budget",
  score = "diag",
  limits = { layers_per_block = MAX_LAYERS },

  -- Score only below the budget, and COOLDOWN epochs after the last expansion.
  when = function(ctx)
    local last = ctx.history[#ctx.history]
    return ctx.model.params < BUDGET and (last == nil or ctx.epoch - last.epoch >= COOLDOWN)
  end,

  -- Every block, both ops (layers below MAX_LAYERS); nothing at all once the model is at the budget.
  -- (A candidate's size is known only once scored, so decide filters again.)
  propose = function(ctx)
    local candidates = {}
    if ctx.model.params >= BUDGET then return candidates end
    for _, b in ipairs(ctx.model.blocks) do
      if b.layers < MAX_LAYERS then
        candidates[#candidates + 1] = { block = b.block, op = "layer" }
      end
      candidates[#candidates + 1] = { block = b.block, op = "widen", channels = WIDEN }
    end
    return candidates
  end,

  -- The best positive gain per added parameter among candidates within the budget.
  decide = function(ctx)
    local best, best_gain = nil, 0
    for _, c in ipairs(ctx.candidates) do
      if c.params <= BUDGET and c.delta_params > 0 then
        local gain = (c.score - ctx.score.value) / c.delta_params
        if gain > best_gain then best, best_gain = c, gain end
      end
    end
    return best
  end,
}
