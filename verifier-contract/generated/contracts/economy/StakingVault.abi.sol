// StakingVault's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface StakingVault {
    error BadDuration();
    error NotEconomy();
    error ReentrancyGuardReentrantCall();
    error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value);
    error SafeERC20FailedOperation(address token);
    error ZeroAmount();

    event RewardAdded(uint256 amount, uint256 streamed, uint64 until);
    event RewardPaid(address indexed who, uint256 amount);
    event Staked(address indexed who, uint256 amount);
    event Unstaked(address indexed who, uint256 amount);

    constructor(address token_, address economy_, uint64 rewardDuration_);

    function claim() external returns (uint256 amount);
    function earned(address who) external view returns (uint256);
    function economy() external view returns (address);
    function lastUpdate() external view returns (uint64);
    function notifyReward(uint256 amount) external;
    function owed(address) external view returns (uint256);
    function rewardDuration() external view returns (uint64);
    function rewardPerToken() external view returns (uint256);
    function rewardPerTokenStored() external view returns (uint256);
    function rewardStream() external view returns (uint256 rate, uint64 finish);
    function stake(uint256 amount) external;
    function stakeOf(address) external view returns (uint256);
    function stakedCumulative() external view returns (uint256);
    function stakedSeconds() external view returns (uint256);
    function token() external view returns (address);
    function totalStaked() external view returns (uint256);
    function unassigned() external view returns (uint256);
    function unstake(uint256 amount) external;
}
