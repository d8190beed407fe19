-- kfac.lua: paper.lua's policy on the K-FAC natural score.
--
-- The same decision as paper.lua (discounted unbiased score η·exp(−λ·Δp²)
-- more than τ times the current score, after a warm-up and a cool-down), with
-- the core computing η from Kronecker-factored Fisher blocks instead of the
-- diagonal: slower to score, closer to the true natural gradient. K-FAC's
-- ratios for a layer are like the diagonal's (1.0-1.5 on CIFAR-10), so τ is
-- the same 1.3. Rule files cannot load each other, so this is a compact copy;
-- paper.lua explains each setting.

local args = ...

local function setting(name, default)
  local value = args[name]
  if value == nil then return default end
  assert(type(value) == "number", ("--rule-arg %s=%s: expected a number"):format(name, tostring(value)))
  return value
end

local TAU = setting("tau", 1.3)           -- the paper's 2 never grows on secnn's η
local LAMBDA = setting("lambda", 1e-10)   -- discount exp(-0.01) ≈ 0.99 at Δp = 10,000
local COOLDOWN = setting("cooldown", 10)
local WARMUP = setting("warmup", 5)
local MAX_LAYERS = setting("max_layers", 10)
local WIDEN_SMALL = setting("widen_small", 2)
local WIDEN_LARGE = setting("widen_large", 4)
local LARGE_BLOCK = setting("large_block", 32)

return {
  name = "kfac",
  score = "kfac",
  limits = { layers_per_block = MAX_LAYERS },

  when = function(ctx)
    local last = ctx.history[#ctx.history]
    return ctx.epoch >= WARMUP and (last == nil or ctx.epoch - last.epoch >= COOLDOWN)
  end,

  propose = function(ctx)
    local candidates = {}
    for _, b in ipairs(ctx.model.blocks) do
      if b.layers < MAX_LAYERS then candidates[#candidates + 1] = { block = b.block, op = "layer" } end
      local channels = b.channels < LARGE_BLOCK and WIDEN_SMALL or WIDEN_LARGE
      candidates[#candidates + 1] = { block = b.block, op = "widen", channels = channels }
    end
    return candidates
  end,

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
