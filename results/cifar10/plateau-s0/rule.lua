-- plateau.lua (experimental): grow when the current size has stopped
-- improving, and only then.
--
-- The τ-rules and budget.lua decide *when* to grow from the score and a
-- cool-down, and the score's noise across epochs makes that partly chance
-- (rules/README.md, "Choosing τ"). This rule takes *when* from the
-- validation curve instead: once the best validation accuracy at the current
-- size has not risen by MIN_DELTA for PATIENCE epochs, the size has given
-- what it can at this learning rate, and the model grows by budget.lua's
-- choice (the candidate with the most signal per unit of compute; any gain
-- counts, since the curve has already said that capacity is short). Every
-- rung of the ladder is thus trained until it plateaus.
--
-- With the paper's recipe, PATIENCE (4) is well below the learning rate's
-- patience (15), so the model grows before the rate halves; once the budget
-- is reached, the plateaus halve the rate instead.

local args = ...
local S = settings(args, {
  -- Epochs without a new best validation accuracy (by more than min_delta) before growing.
  patience = 4,
  min_delta = 0.002,
  -- Epochs before the first expansion can be considered.
  warmup = 5,
  -- budget.lua's settings for what to grow (see there).
  budget = 60000,
  flops = 0,
  per_flop = 1,
  widen_fraction = 0.25,
  max_layers = 10,
})

local choice = stock("budget.lua", {
  budget = S.budget, flops = S.flops, per_flop = S.per_flop, widen_fraction = S.widen_fraction,
  max_layers = S.max_layers, min_efficiency = 0,
})

-- The best validation accuracy of the epochs at the current size, before and within the last PATIENCE epochs.
local function plateaued(ctx)
  local last = ctx.history[#ctx.history]
  local since = last and last.epoch or 0
  if ctx.epoch < S.warmup or ctx.epoch - since <= S.patience then return false end
  local before, recent = -1, -1
  for _, m in ipairs(ctx.metrics) do
    if m.epoch > since then
      if m.epoch > ctx.epoch - S.patience then
        recent = math.max(recent, m.val_accuracy)
      else
        before = math.max(before, m.val_accuracy)
      end
    end
  end
  return recent < before + S.min_delta
end

return {
  name = "plateau",
  score = "diag",
  limits = choice.limits,
  when = function(ctx)
    return ctx.model.params <= S.budget and (S.flops == 0 or ctx.model.flops <= S.flops) and plateaued(ctx)
  end,
  propose = choice.propose,
  decide = choice.decide,
}
