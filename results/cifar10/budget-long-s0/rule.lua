-- budget.lua: grow while the model stays within a parameter budget (and, if
-- given, a compute budget), always buying the most natural-gradient signal
-- per unit of cost.
--
-- A candidate's gain is the relative rise of the unbiased score,
-- (η − η_c)/η_c, and its cost the relative growth of the model's compute,
-- ΔFLOPs/FLOPs (or of its size, Δp/P, with per_flop=0). Their quotient, the
-- efficiency, is 1 when the new multiply-adds (parameters) carry as much
-- signal each as the model's average one. The most efficient candidate within the budgets is applied when
-- its efficiency is at least MIN_EFFICIENCY; once no candidate fits, the
-- model stops growing. Unlike a plain ratio η/η_c, the efficiency does not
-- favour a candidate for being large (rules/README.md, "Choosing τ").
--
-- Copy this file to make your own rule; rules/README.md has the contract.

local args = ...  -- the --rule-arg table (the same table is ctx.args in every call)

-- The settings, each overridden by --rule-arg NAME=VALUE (settings() refuses a
-- name that is not here, and a value that is not a number).
local S = settings(args, {
  -- Parameters the model may reach (CIFAR-10's start model has 9,024, digits' 5,736).
  budget = 60000,
  -- Multiply-adds per image the model may reach; 0 for no compute budget.
  flops = 0,
  -- 1: cost is compute, ΔFLOPs/FLOPs; 0: parameters, Δp/P. Priced by compute,
  -- growth goes where the maps are small (a layer on a 32×32 block costs 16× one
  -- on an 8×8 block for the same parameters); priced by parameters, it goes to
  -- the first block, whose parameters see the most pixels.
  per_flop = 1,
  -- Grow only when the expansion is at least this efficient (1: as much signal
  -- per unit of cost as the model's average).
  min_efficiency = 1,
  -- Epochs to wait after an expansion before scoring again, and before the first.
  cooldown = 3,
  warmup = 5,
  -- A widening adds a quarter of the block's channels (an even number, at least 2):
  -- steps of +2 would take a 100-epoch run's whole growth budget to double one block.
  widen_fraction = 0.25,
  -- Conv layers a block may reach.
  max_layers = 10,
})
local BUDGET, FLOPS, PER_FLOP, MIN_EFFICIENCY = S.budget, S.flops, S.per_flop == 1, S.min_efficiency
local COOLDOWN, WARMUP, WIDEN_FRACTION, MAX_LAYERS = S.cooldown, S.warmup, S.widen_fraction, S.max_layers

local function within_budget(params, flops)
  return params <= BUDGET and (FLOPS == 0 or flops <= FLOPS)
end

return {
  name = "budget",
  score = "diag",
  limits = { layers_per_block = MAX_LAYERS },

  -- Score past the warm-up, COOLDOWN epochs after the last expansion, and only within the budgets.
  when = function(ctx)
    local last = ctx.history[#ctx.history]
    return ctx.epoch >= WARMUP and within_budget(ctx.model.params, ctx.model.flops)
      and (last == nil or ctx.epoch - last.epoch >= COOLDOWN)
  end,

  -- Every block, both ops. (A candidate's size is known only once scored, so decide checks the budgets.)
  propose = function(ctx)
    local candidates = {}
    for _, b in ipairs(ctx.model.blocks) do
      if b.layers < MAX_LAYERS then
        candidates[#candidates + 1] = { block = b.block, op = "layer" }
      end
      local widen = math.max(2, 2 * math.floor(b.channels * WIDEN_FRACTION / 2 + 0.5))
      candidates[#candidates + 1] = { block = b.block, op = "widen", channels = widen }
    end
    return candidates
  end,

  -- The most efficient candidate within the budgets, if efficient enough.
  -- Nothing grows while η_c is below its noise floor (no baseline to compare with).
  decide = function(ctx)
    local current = ctx.score.unbiased
    if current <= 0 then return nil end
    local best, best_efficiency = nil, MIN_EFFICIENCY
    for _, c in ipairs(ctx.candidates) do
      if within_budget(c.params, c.flops) and c.delta_params > 0 then
        local cost = PER_FLOP and c.delta_flops / ctx.model.flops or c.delta_params / ctx.model.params
        local efficiency = (c.unbiased - current) / current / cost
        if efficiency >= best_efficiency then best, best_efficiency = c, efficiency end
      end
    end
    return best
  end,
}
