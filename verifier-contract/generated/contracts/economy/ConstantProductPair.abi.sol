// ConstantProductPair's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface ConstantProductPair {
    error BadFee(uint256 feeBps);
    error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
    error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed);
    error ERC20InvalidApprover(address approver);
    error ERC20InvalidReceiver(address receiver);
    error ERC20InvalidSender(address sender);
    error ERC20InvalidSpender(address spender);
    error NoLiquidity();
    error ReentrancyGuardReentrantCall();
    error SafeERC20FailedOperation(address token);
    error Slippage(uint256 got, uint256 minimum);
    error ZeroAmount();

    event Approval(address indexed owner, address indexed spender, uint256 value);
    event Liquidity(address indexed who, int256 tokenAmount, int256 quoteAmount, int256 shares);
    event Swap(address indexed who, bool tokenIn, uint256 amountIn, uint256 amountOut, uint256 fee);
    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(address token_, address quote_, address feeSource_, address treasury_, uint256 protocolShareBps_);

    function addLiquidity(uint256 maxToken, uint256 maxQuote, uint256 minShares) external returns (uint256 shares);
    function allowance(address owner, address spender) external view returns (uint256);
    function approve(address spender, uint256 value) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
    function cumulatives() external view returns (uint256 priceSeconds, uint256 reserveSeconds, uint256 quoteVolume);
    function decimals() external view returns (uint8);
    function feeSource() external view returns (address);
    function lastUpdate() external view returns (uint64);
    function name() external view returns (string memory);
    function price() external view returns (uint256);
    function priceCumulative() external view returns (uint256);
    function priceSeconds() external view returns (uint256);
    function protocolShareBps() external view returns (uint256);
    function quote() external view returns (address);
    function quoteSwap(bool tokenIn, uint256 amountIn) external view returns (uint256 amountOut, uint256 fee);
    function quoteVolumeCumulative() external view returns (uint256);
    function removeLiquidity(uint256 shares, uint256 minToken, uint256 minQuote) external returns (uint256 t, uint256 q);
    function reserveQuote() external view returns (uint256);
    function reserveToken() external view returns (uint256);
    function reserveTokenCumulative() external view returns (uint256);
    function swap(bool tokenIn, uint256 amountIn, uint256 minOut, address to) external returns (uint256 amountOut);
    function symbol() external view returns (string memory);
    function token() external view returns (address);
    function totalSupply() external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function treasury() external view returns (address);
}
