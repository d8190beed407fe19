-- paper.lua: the growth policy of the SECNN paper, on the diagonal natural score.
--
-- After each epoch (past the warm-up, and not during the cool-down after an
-- expansion) the core scores, for every block, one more layer and a few more
-- channels. Each candidate's score η is discounted by its size,
-- η·exp(−λ·Δp²), and the best candidate is applied if its discounted score
-- is more than τ times the current model's score η_c. Otherwise nothing grows.
--
-- Two changes from the paper, both for secnn's exact per-example η
-- (rules/README.md, "Choosing τ"): the scores compared are the unbiased ones
-- (η without its sampling-noise floor, ctx.score.unbiased), and τ is 1.3
-- instead of 2. The paper's τ = 2 was tuned to its reference code's cruder
-- score; secnn's ratios lie between 1.0 and 1.6, so τ = 2 never grows.
--
-- Copy this file to make your own rule, or derive one from it with
-- stock("paper.lua", ...) (kfac.lua does); rules/README.md has the contract.

local args = ...  -- the --rule-arg table (the same table is ctx.args in every call)

-- The settings, each overridden by --rule-arg NAME=VALUE (settings() refuses a
-- name that is not here, and a value that is not a number).
local S = settings(args, {
  -- Grow when a candidate's discounted unbiased score is more than tau times
  -- the current model's. On CIFAR-10 and digits the best candidate's ratio is
  -- 1.2-1.5 in most epochs (median about 1.33 on CIFAR-10 from the start
  -- model), so 1.3 passes at most cool-downs early on CIFAR-10 and stops
  -- digits after two layers; the paper's 2 never grows.
  tau = 1.3,
  -- Size penalty per squared added parameter. At Δp = 10,000 the discount is
  -- exp(-1e-10 · 10,000²) = exp(-0.01) ≈ 0.99; at Δp = 100,000 it is exp(-1) ≈ 0.37.
  lambda = 1e-10,
  -- Epochs to wait after an expansion before scoring again.
  cooldown = 10,
  -- The first epoch after which to score. The first epochs' scores measure how
  -- far from trained the model is (η_c swings by 50% from epoch to epoch), not
  -- what it lacks.
  warmup = 5,
  -- Conv layers a block may reach.
  max_layers = 10,
  -- Widen by widen_small channels while a block has fewer than large_block, then by widen_large.
  widen_small = 2,
  widen_large = 4,
  large_block = 32,
})
local TAU, LAMBDA, COOLDOWN, WARMUP = S.tau, S.lambda, S.cooldown, S.warmup
local MAX_LAYERS, WIDEN_SMALL, WIDEN_LARGE, LARGE_BLOCK = S.max_layers, S.widen_small, S.widen_large, S.large_block

return {
  name = "paper",
  score = "diag",
  limits = { layers_per_block = MAX_LAYERS },

  -- Score only past the warm-up and at least COOLDOWN epochs after the last expansion.
  when = function(ctx)
    if ctx.epoch < WARMUP then return false end
    local last = ctx.history[#ctx.history]
    return last == nil or ctx.epoch - last.epoch >= COOLDOWN
  end,

  -- For every block: one more layer (below MAX_LAYERS), and a widening.
  propose = function(ctx)
    local candidates = {}
    for _, b in ipairs(ctx.model.blocks) do
      if b.layers < MAX_LAYERS then
        candidates[#candidates + 1] = { block = b.block, op = "layer" }
      end
      local channels = b.channels < LARGE_BLOCK and WIDEN_SMALL or WIDEN_LARGE
      candidates[#candidates + 1] = { block = b.block, op = "widen", channels = channels }
    end
    return candidates
  end,

  -- The candidate with the best discounted ratio, if that ratio beats TAU.
  -- Nothing grows while η_c is below its noise floor (no baseline to compare with).
  decide = function(ctx)
    local current = ctx.score.unbiased
    if current <= 0 then return nil end
    local best, best_ratio = nil, TAU
    for _, c in ipairs(ctx.candidates) do
      local ratio = c.unbiased * math.exp(-LAMBDA * c.delta_params ^ 2) / current
      if ratio > best_ratio then best, best_ratio = c, ratio end
    end
    return best
  end,
}
