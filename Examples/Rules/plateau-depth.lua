-- plateau-depth.lua: an example growth rule, written as a user would.
--
-- Policy: widen while validation accuracy still climbs; once it has not
-- improved for PATIENCE epochs, add a layer instead (depth only after a
-- plateau). Among the candidates of the chosen kind take the best score,
-- and only if it beats the current model's by MIN_RATIO.
--
--   secnn train --data digits --epochs 40 --rule Examples/Rules/plateau-depth.lua --rule-arg patience=3
--   swift package check-rules Examples/Rules/plateau-depth.lua

local PATIENCE = 4      -- epochs without a new best validation accuracy = plateau
local MIN_RATIO = 1.05  -- candidate score / current score must exceed this
local WIDEN_BY = 4      -- channels per widening
local COOLDOWN = 3      -- epochs between expansions

local function arg(ctx, key, default)
  local value = ctx.args[key]
  if value == nil then return default end
  return value
end

-- Epochs since the best validation accuracy so far.
local function epochs_since_best(ctx)
  local best, best_epoch = -1, 0
  for _, m in ipairs(ctx.metrics) do
    if m.val_accuracy > best then best, best_epoch = m.val_accuracy, m.epoch end
  end
  return ctx.epoch - best_epoch
end

local function plateau(ctx)
  return epochs_since_best(ctx) >= arg(ctx, "patience", PATIENCE)
end

return {
  name = "plateau-depth",
  score = "diag",

  when = function(ctx)
    local last = ctx.history[#ctx.history]
    return last == nil or ctx.epoch - last.epoch >= arg(ctx, "cooldown", COOLDOWN)
  end,

  -- Score only the kind of growth we would accept.
  propose = function(ctx)
    local op = plateau(ctx) and "layer" or "widen"
    local list = {}
    for _, b in ipairs(ctx.model.blocks) do
      list[#list + 1] = { block = b.block, op = op, channels = op == "widen" and arg(ctx, "widen_by", WIDEN_BY) or 0 }
    end
    return list
  end,

  decide = function(ctx)
    local best = nil
    for _, c in ipairs(ctx.candidates) do
      if c.ratio > arg(ctx, "min_ratio", MIN_RATIO) and (best == nil or c.ratio > best.ratio) then best = c end
    end
    return best
  end,
}
